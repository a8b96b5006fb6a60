// Where ptui's files live (README, "Paths and environment"). Flags beat environment variables beat defaults;
// every relative path is taken from home.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: dist/config/paths.js (or src/config/paths.ts) is two levels below it. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PathOptions {
  home?: string;
  configDir?: string;
  runtimeDir?: string;
}

export interface Paths {
  home: string;
  configDir: string;
  runtimeDir: string;
  usageDb: string;
  cacheDir: string;
  logsDir: string;
  budgetConfigJson: string;
  litellmConfigYaml: string;
  /** virtual keys (hashes and limits), written by `ptui keys`, read by the gateway */
  keysDb: string;
  /** shared mode: this gateway's copy of the keys it last read from Redis (hashes only) */
  sharedKeysJson: string;
}

type Env = Record<string, string | undefined>;

/** Home alone, because `.env` is read from home before the other paths are known. */
export function resolveHome(opts: PathOptions, env: Env = process.env): string {
  return path.resolve(opts.home ?? env.AI_BACKEND_HOME ?? PACKAGE_ROOT);
}

export function resolvePaths(opts: PathOptions, env: Env = process.env): Paths {
  const home = resolveHome(opts, env);
  const fromHome = (p: string) => path.resolve(home, p);
  const configDir = fromHome(opts.configDir ?? env.AI_BACKEND_CONFIG_DIR ?? 'config');
  const runtimeDir = fromHome(opts.runtimeDir ?? env.AI_BACKEND_RUNTIME_DIR ?? 'runtime');
  return {
    home,
    configDir,
    runtimeDir,
    usageDb: path.join(runtimeDir, 'usage', 'llm_usage.db'),
    cacheDir: fromHome(env.AI_BACKEND_CACHE_DIR ?? '.litellm_cache'),
    logsDir: path.join(runtimeDir, 'logs'),
    budgetConfigJson: path.join(runtimeDir, 'budget_config.json'),
    litellmConfigYaml: path.join(runtimeDir, 'litellm_config.yaml'),
    keysDb: path.join(runtimeDir, 'keys.db'),
    sharedKeysJson: path.join(runtimeDir, 'shared-keys.json'),
  };
}
