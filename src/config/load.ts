// Loads and validates the config directory (README, "Paths and environment") and collects every problem in one
// pass, each as `file: key.path: message`, so `ptui config check` can list them all at once.
// Each file is read, `${VAR}`-resolved and schema-checked on its own; references between files
// are checked on whatever parsed, so a broken provider does not hide a dangling model reference.
import fs from 'node:fs';
import path from 'node:path';
import { envFileProblem, loadEnv, resolveVarsDeep, type Env, type VarRef } from './env.js';
import { resolvePaths, type PathOptions, type Paths } from './paths.js';
import { formatKeyPath, formatProblem, hasErrors, type ConfigProblem } from './problems.js';
import { readYamlFile } from './read-yaml.js';
import {
  gatewayFileSchema,
  mappingsFileSchema,
  providersFileSchema,
  windowSeconds,
  type Budget,
  type BudgetEntry,
  type GatewayFile,
  type LogicalModel,
  type Provider,
} from './schema.js';
import { checkCallbacks, checkLiteralSecrets, checkReferences, checkUnits } from './validate.js';
import { validateFile } from './zod-problems.js';

export { formatProblem, type ConfigProblem };

export const CONFIG_FILES = {
  providers: 'providers.yaml',
  mappings: 'model-mappings.yaml',
  gateway: 'gateway.yaml',
} as const;

export interface LoadOptions extends PathOptions {
  host?: string;
  port?: number;
  /** defaults to process.env; `.env` in home is layered under it */
  env?: Env;
}

export interface ResolvedModel extends LogicalModel {
  name: string;
}

/** The whole validated, `${VAR}`-resolved configuration that the gateway and dashboard run on. */
export interface ResolvedConfig {
  paths: Paths;
  env: Env;
  providers: Record<string, Provider>;
  systemctlScope: 'system' | 'user';
  capabilities: Record<string, { budget?: Budget }>;
  models: Record<string, ResolvedModel>;
  gateway: GatewayFile;
  budgets: BudgetEntry[];
  listen: { host: string; port: number };
  /** the files as written, before `${VAR}` resolution: what `config print` shows, redacted */
  raw: { providers: unknown; mappings: unknown; gateway: unknown };
  /** `${VAR}` names referenced in YAML that have no value */
  unsetVars: string[];
  /** every `${VAR}` reference with the file and key path that holds it */
  varRefs: VarRef[];
}

export interface LoadResult {
  config?: ResolvedConfig;
  problems: ConfigProblem[];
  paths: Paths;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const FILE_ORDER: string[] = ['.env', CONFIG_FILES.providers, CONFIG_FILES.mappings, CONFIG_FILES.gateway];

/** Group the lines by file (stable, so each file keeps the order problems were found in). */
function sortByFile(problems: ConfigProblem[]): void {
  const rank = (p: ConfigProblem) => {
    const i = FILE_ORDER.indexOf(p.file);
    return i < 0 ? FILE_ORDER.length : i;
  };
  problems.sort((a, b) => rank(a) - rank(b));
}

export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const processEnv = opts.env ?? process.env;
  const preliminary = resolvePaths(opts, processEnv);
  const env = loadEnv(preliminary.home, processEnv);
  const paths = resolvePaths(opts, env);
  const problems: ConfigProblem[] = [];
  const envProblem = envFileProblem(preliminary.home);
  if (envProblem) problems.push({ file: '.env', path: '', message: envProblem, severity: 'warning' });

  let dirStat: fs.Stats | undefined;
  try {
    dirStat = fs.statSync(paths.configDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'config dir not found' : `config dir cannot be read (${code})`;
    problems.push({ file: paths.configDir, path: '', message: why, severity: 'error' });
    return { problems, paths };
  }
  if (!dirStat.isDirectory()) {
    problems.push({ file: paths.configDir, path: '', message: 'config dir is not a directory', severity: 'error' });
    return { problems, paths };
  }

  const P = CONFIG_FILES.providers;
  const M = CONFIG_FILES.mappings;
  const G = CONFIG_FILES.gateway;
  const providersRead = readYamlFile(P, path.join(paths.configDir, P), true, problems);
  const mappingsRead = readYamlFile(M, path.join(paths.configDir, M), true, problems);
  const gatewayRead = readYamlFile(G, path.join(paths.configDir, G), false, problems);
  const rawProviders = providersRead.status === 'ok' ? providersRead.raw : undefined;
  const rawMappings = mappingsRead.status === 'ok' ? mappingsRead.raw : undefined;
  const rawGateway = gatewayRead.status === 'ok' ? gatewayRead.raw : undefined;

  const varRefs: VarRef[] = [];
  const resolvedProviders = rawProviders && (resolveVarsDeep(rawProviders, env, P, varRefs) as Obj);
  const resolvedMappings = rawMappings && (resolveVarsDeep(rawMappings, env, M, varRefs) as Obj);
  const resolvedGateway = rawGateway && (resolveVarsDeep(rawGateway, env, G, varRefs) as Obj);
  // Keyed by file too: the same key path in two files must not borrow each other's variable.
  const varPaths = (file: string) => {
    const m = new Map<string, { name: string; set: boolean }>();
    for (const r of varRefs) {
      if (r.file !== file) continue;
      const key = formatKeyPath(r.path);
      const prev = m.get(key);
      // A string with several references is "set" only when all are; name the first unset one.
      if (!prev || (prev.set && !r.set)) m.set(key, { name: r.name, set: r.set });
    }
    return m;
  };

  const providersFile = resolvedProviders && validateFile(P, providersFileSchema, resolvedProviders, problems, varPaths(P));
  const mappingsFile = resolvedMappings && validateFile(M, mappingsFileSchema, resolvedMappings, problems, varPaths(M));
  // A missing gateway.yaml means all defaults; an unusable one is an error already reported.
  const gatewayFile =
    gatewayRead.status === 'error' ? undefined : validateFile(G, gatewayFileSchema, resolvedGateway ?? {}, problems, varPaths(G));

  const providerNames =
    providersFile ? Object.keys(providersFile.providers)
    : resolvedProviders && isObj(resolvedProviders.providers) ? Object.keys(resolvedProviders.providers)
    : undefined;
  if (resolvedMappings) checkReferences(M, resolvedMappings, providerNames, problems);
  if (providersFile) checkUnits(P, providersFile.providers, problems);
  if (rawProviders && isObj(rawProviders.providers)) {
    const keyPaths = Object.keys(rawProviders.providers).map((n) => ['providers', n, 'api_key']);
    checkLiteralSecrets(P, rawProviders, keyPaths, problems);
  }
  if (rawGateway) checkLiteralSecrets(G, rawGateway, [['master_key']], problems);
  // a Redis URL is a secret only when it carries a password
  const rawRedisUrl = rawGateway && isObj(rawGateway.shared) ? rawGateway.shared.redis_url : undefined;
  if (rawGateway && typeof rawRedisUrl === 'string' && /^rediss?:\/\/[^/@]*:[^/@]+@/.test(rawRedisUrl)) {
    checkLiteralSecrets(G, rawGateway, [['shared', 'redis_url']], problems);
  }
  if (gatewayFile) checkCallbacks(G, paths.home, gatewayFile.callbacks, problems);

  // A required field that failed because its variable is unset already says so in its error.
  const erroredPaths = new Set(problems.filter((p) => p.severity === 'error').map((p) => `${p.file}\u0000${p.path}`));
  for (const r of varRefs) {
    if (r.set || erroredPaths.has(`${r.file}\u0000${formatKeyPath(r.path)}`)) continue;
    problems.push({ file: r.file, path: formatKeyPath(r.path), message: `\${${r.name}} is not set`, severity: 'warning' });
  }

  let portValue = opts.port ?? (env.AI_BACKEND_GATEWAY_PORT !== undefined ? Number(env.AI_BACKEND_GATEWAY_PORT) : 4000);
  if (!Number.isInteger(portValue) || portValue < 0 || portValue > 65535) {
    problems.push({
      file: 'environment',
      path: 'AI_BACKEND_GATEWAY_PORT',
      message: `invalid port "${env.AI_BACKEND_GATEWAY_PORT}" (must be 0-65535)`,
      severity: 'error',
    });
    portValue = 4000;
  }

  sortByFile(problems);

  if (hasErrors(problems) || !providersFile || !mappingsFile || !gatewayFile) {
    return { problems, paths };
  }

  const gateway: GatewayFile = { ...gatewayFile, cache: { ...gatewayFile.cache } };
  if (env.AI_BACKEND_MASTER_KEY) gateway.master_key = env.AI_BACKEND_MASTER_KEY;
  const cacheEnv = env.AI_BACKEND_ENABLE_CACHE?.toLowerCase();
  if (cacheEnv === 'true' || cacheEnv === '1') gateway.cache.enabled = true;
  else if (cacheEnv === 'false' || cacheEnv === '0') gateway.cache.enabled = false;

  const models: Record<string, ResolvedModel> = {};
  for (const [name, m] of Object.entries(mappingsFile.models)) models[name] = { ...m, name };

  const config: ResolvedConfig = {
    paths,
    env,
    providers: providersFile.providers,
    systemctlScope: providersFile.services.systemctl_scope,
    capabilities: mappingsFile.capabilities,
    models,
    gateway,
    budgets: collectBudgets(providersFile.providers, mappingsFile.capabilities, models),
    listen: { host: opts.host ?? env.AI_BACKEND_GATEWAY_HOST ?? '127.0.0.1', port: portValue },
    raw: { providers: rawProviders, mappings: rawMappings, gateway: rawGateway ?? {} },
    unsetVars: [...new Set(varRefs.filter((r) => !r.set).map((r) => r.name))].sort(),
    varRefs,
  };
  return { config, problems, paths };
}

function collectBudgets(
  providers: Record<string, Provider>,
  capabilities: Record<string, { budget?: Budget }>,
  models: Record<string, ResolvedModel>,
): BudgetEntry[] {
  const out: BudgetEntry[] = [];
  const add = (scope: BudgetEntry['scope'], target: string, b: Budget | undefined) => {
    if (!b) return;
    out.push({
      scope,
      target,
      max_budget_usd: b.max_budget_usd,
      budget_window: b.budget_window,
      window_seconds: windowSeconds(b.budget_window),
      action: b.action,
    });
  };
  for (const [name, p] of Object.entries(providers)) add('provider', name, p.budget);
  for (const [name, m] of Object.entries(models)) add('model', name, m.budget);
  for (const [name, c] of Object.entries(capabilities)) add('capability', name, c.budget);
  return out;
}
