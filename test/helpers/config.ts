// A throwaway ptui home for tests: `<home>/config/*.yaml` and an optional `<home>/.env`.
// Each file is the sample from the repo's `config/` unless the test says otherwise:
//   undefined -> copy of the sample file
//   null      -> the file is not written (providers/mappings are required, gateway is optional)
//   string    -> written verbatim (for YAML syntax errors, empty files, exact layouts)
//   object    -> serialised as YAML
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLE_CONFIG_DIR = path.join(REPO_ROOT, 'config');

export type FileSpec = string | Record<string, unknown> | null | undefined;

export interface HomeFiles {
  providers?: FileSpec;
  mappings?: FileSpec;
  gateway?: FileSpec;
  /** `.env` in home: text verbatim, or KEY=VALUE pairs; absent = no .env */
  env?: string | Record<string, string> | null;
}

export interface TempHome {
  home: string;
  configDir: string;
  runtimeDir: string;
  cleanup: () => void;
}

const FILE_NAMES = {
  providers: 'providers.yaml',
  mappings: 'model-mappings.yaml',
  gateway: 'gateway.yaml',
} as const;

/** The repo's sample config file, parsed, for tests that tweak one field of it. */
export function sampleConfig(which: keyof typeof FILE_NAMES): Record<string, any> {
  return YAML.parse(fs.readFileSync(path.join(SAMPLE_CONFIG_DIR, FILE_NAMES[which]), 'utf8'));
}

export function makeHome(files: HomeFiles = {}): TempHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-home-'));
  const configDir = path.join(home, 'config');
  fs.mkdirSync(configDir);
  for (const key of Object.keys(FILE_NAMES) as (keyof typeof FILE_NAMES)[]) {
    const spec = files[key];
    const dest = path.join(configDir, FILE_NAMES[key]);
    if (spec === null) continue;
    if (spec === undefined) fs.copyFileSync(path.join(SAMPLE_CONFIG_DIR, FILE_NAMES[key]), dest);
    else if (typeof spec === 'string') fs.writeFileSync(dest, spec);
    else fs.writeFileSync(dest, YAML.stringify(spec));
  }
  if (files.env != null) {
    const text =
      typeof files.env === 'string'
        ? files.env
        : Object.entries(files.env)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join('\n') + '\n';
    fs.writeFileSync(path.join(home, '.env'), text);
  }
  return {
    home,
    configDir,
    runtimeDir: path.join(home, 'runtime'),
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

/**
 * An environment for child processes that cannot leak the developer's own ptui settings or
 * secrets into a test: every AI_BACKEND_* and the sample's ${VAR}s are dropped, then `extra` added.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('AI_BACKEND_') || k === 'VLLM_API_KEY' || k === 'OPENAI_API_KEY') continue;
    out[k] = v;
  }
  return { ...out, NO_COLOR: '1', ...extra };
}
