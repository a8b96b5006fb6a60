// Loads and validates the config directory (SPEC §2, §4) and collects every problem in one
// pass, each as `file: key.path: message`, so `ptui config check` can list them all at once.
import fs from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter } from 'yaml';
import type { z } from 'zod';
import { interpolate, loadEnv, VAR_REF_RE, type Env } from './env.js';
import { resolvePaths, type PathOptions, type Paths } from './paths.js';
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

export const CONFIG_FILES = {
  providers: 'providers.yaml',
  mappings: 'model-mappings.yaml',
  gateway: 'gateway.yaml',
} as const;

export interface ConfigProblem {
  file: string;
  /** key path (`models.gpt-4.targets[1].provider`) or `line:column` for YAML syntax errors */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.file}: ${p.path}` : p.file;
  return `${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

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
}

export interface LoadResult {
  config?: ResolvedConfig;
  problems: ConfigProblem[];
  paths: Paths;
}

function formatKeyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${String(s)}` : String(s);
  }
  return out;
}

interface ReadFile {
  raw?: unknown;
}

function readYaml(file: string, fullPath: string, required: boolean, problems: ConfigProblem[]): ReadFile & { missing?: boolean } {
  const err = (message: string) => problems.push({ file, path: '', message, severity: 'error' });
  let text: string;
  try {
    const st = fs.statSync(fullPath);
    if (st.isDirectory()) {
      err(`${fullPath} is a directory, not a file`);
      return {};
    }
    text = fs.readFileSync(fullPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (required) err(`required file not found: ${fullPath}`);
      return { missing: true };
    }
    if (code === 'EACCES' || code === 'EPERM') err(`cannot read ${fullPath}: permission denied`);
    else err(`cannot read ${fullPath}: ${(e as Error).message}`);
    return {};
  }
  if (text.trim() === '') {
    err(`file is empty: ${fullPath}`);
    return {};
  }
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      const msg = e.message.split('\n')[0];
      problems.push({ file, path: `${pos.line}:${pos.col}`, message: `YAML syntax error: ${msg}`, severity: 'error' });
    }
    return {};
  }
  const raw = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    err('top level must be a mapping');
    return {};
  }
  return { raw };
}

/** Replace `${VAR}` in every string; a value that was only unset references becomes absent. */
function resolveVars(value: unknown, env: Env, unset: Set<string>): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const out = interpolate(value, env, unset);
    return out === '' && value.replace(VAR_REF_RE, '').trim() === '' ? undefined : out;
  }
  if (Array.isArray(value)) return value.map((v) => resolveVars(v, env, unset));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolveVars(v, env, unset);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

function validate<T>(file: string, schema: z.ZodType<T>, value: unknown, problems: ConfigProblem[]): T | undefined {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  for (const issue of res.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ file, path: formatKeyPath([...issue.path, key]), message: 'unknown key', severity: 'error' });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) message = 'required';
    problems.push({ file, path: formatKeyPath(issue.path), message, severity: 'error' });
  }
  return undefined;
}

function known(names: string[]): string {
  return names.length ? names.join(', ') : 'none';
}

export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const processEnv = opts.env ?? process.env;
  const preliminary = resolvePaths(opts, processEnv);
  const env = loadEnv(preliminary.home, processEnv);
  const paths = resolvePaths(opts, env);
  const problems: ConfigProblem[] = [];

  try {
    if (!fs.statSync(paths.configDir).isDirectory()) {
      problems.push({ file: paths.configDir, path: '', message: 'config dir is not a directory', severity: 'error' });
      return { problems, paths };
    }
  } catch {
    problems.push({ file: paths.configDir, path: '', message: `config dir not found: ${paths.configDir}`, severity: 'error' });
    return { problems, paths };
  }

  const P = CONFIG_FILES.providers;
  const M = CONFIG_FILES.mappings;
  const G = CONFIG_FILES.gateway;
  const rawProviders = readYaml(P, path.join(paths.configDir, P), true, problems).raw;
  const rawMappings = readYaml(M, path.join(paths.configDir, M), true, problems).raw;
  const rawGateway = readYaml(G, path.join(paths.configDir, G), false, problems).raw;

  const unset = new Set<string>();
  const providersFile =
    rawProviders !== undefined ? validate(P, providersFileSchema, resolveVars(rawProviders, env, unset), problems) : undefined;
  const mappingsFile =
    rawMappings !== undefined ? validate(M, mappingsFileSchema, resolveVars(rawMappings, env, unset), problems) : undefined;
  const gatewayFile = validate(G, gatewayFileSchema, rawGateway === undefined ? {} : resolveVars(rawGateway, env, unset), problems);

  for (const name of [...unset].sort()) {
    problems.push({ file: 'env', path: name, message: `\${${name}} is referenced but not set`, severity: 'warning' });
  }

  // Cross-file references, checked only when both sides parsed.
  if (providersFile && mappingsFile) {
    const providerNames = Object.keys(providersFile.providers);
    const capabilityNames = Object.keys(mappingsFile.capabilities);
    for (const [name, model] of Object.entries(mappingsFile.models)) {
      if (!(model.capability in mappingsFile.capabilities)) {
        problems.push({
          file: M,
          path: `models.${name}.capability`,
          message: `unknown capability "${model.capability}" (known: ${known(capabilityNames)})`,
          severity: 'error',
        });
      }
      const seen = new Set<string>();
      model.targets.forEach((t, i) => {
        if (!(t.provider in providersFile.providers)) {
          problems.push({
            file: M,
            path: `models.${name}.targets[${i}].provider`,
            message: `unknown provider "${t.provider}" (known: ${known(providerNames)})`,
            severity: 'error',
          });
        }
        const key = `${t.provider}\u0000${t.model}`;
        if (seen.has(key)) {
          problems.push({
            file: M,
            path: `models.${name}.targets[${i}]`,
            message: `duplicate target ${t.provider}/${t.model}`,
            severity: 'error',
          });
        }
        seen.add(key);
      });
    }
  }
  // The same unit controlled under two provider names would make the Services panel lie.
  if (providersFile) {
    const units = new Map<string, string>();
    for (const [name, p] of Object.entries(providersFile.providers)) {
      if (!p.service) continue;
      const other = units.get(p.service);
      if (other) {
        problems.push({
          file: P,
          path: `providers.${name}.service`,
          message: `unit "${p.service}" is already used by provider "${other}"`,
          severity: 'error',
        });
      } else units.set(p.service, name);
    }
  }

  let portValue = opts.port ?? (env.AI_BACKEND_GATEWAY_PORT !== undefined ? Number(env.AI_BACKEND_GATEWAY_PORT) : 4000);
  if (!Number.isInteger(portValue) || portValue < 0 || portValue > 65535) {
    problems.push({ file: 'env', path: 'AI_BACKEND_GATEWAY_PORT', message: `invalid port "${portValue}"`, severity: 'error' });
    portValue = 4000;
  }

  if (problems.some((p) => p.severity === 'error') || !providersFile || !mappingsFile || !gatewayFile) {
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
    unsetVars: [...unset].sort(),
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
