// `ptui config export`: the budgets as runtime/budget_config.json, and the routing as a
// runtime/litellm_config.yaml that LiteLLM's proxy would accept, both written atomically.
// Secrets never reach either file: keys are exported as LiteLLM's `os.environ/NAME` references.
import YAML from 'yaml';
import { writeFileAtomic } from './atomic.js';
import { pureVarRef, type Env } from './env.js';
import { loadConfig, type LoadOptions, type ResolvedConfig } from './load.js';
import { formatProblem, hasErrors, type ConfigProblem } from './problems.js';
import { scrubSecretValues } from './redact.js';
import type { BudgetEntry, Provider } from './schema.js';

export interface BudgetConfigDocument {
  generated_at: string;
  budgets: BudgetEntry[];
}

export function budgetConfigDocument(config: ResolvedConfig, now = new Date()): BudgetConfigDocument {
  return { generated_at: now.toISOString(), budgets: config.budgets.map((b) => ({ ...b })) };
}

/** Writes runtime/budget_config.json (every budget) and returns its path. */
export function writeBudgetConfigJson(config: ResolvedConfig): string {
  const file = config.paths.budgetConfigJson;
  writeFileAtomic(file, `${JSON.stringify(budgetConfigDocument(config), null, 2)}\n`);
  return file;
}

type RawProviders = { providers?: Record<string, { api_key?: unknown }> } | undefined;
type RawGateway = { master_key?: unknown } | undefined;

/** A capability named like this serves embeddings: LiteLLM must route it as an embedding model. */
const EMBEDDING_CAPABILITY_RE = /^embed(ding)?s?$/i;
export const isEmbeddingCapability = (capability: string) => EMBEDDING_CAPABILITY_RE.test(capability);

/**
 * LiteLLM's provider prefix: OpenAI's wire format for openai and every OpenAI-compatible server;
 * for Ollama `ollama_chat/` (its chat API), except embeddings, which only `ollama/` serves.
 */
function litellmModel(p: Provider, model: string, embedding: boolean): string {
  if (p.type !== 'ollama') return `openai/${model}`;
  return embedding ? `ollama/${model}` : `ollama_chat/${model}`;
}

/**
 * The URL LiteLLM should call. Ollama's native API (what `ollama_chat/` speaks) lives at the
 * root, not under the OpenAI-compatible `/v1`. Credentials are stripped: runtime files hold none.
 */
function litellmApiBase(p: Provider): { url: string; stripped: boolean } {
  const u = new URL(p.api_base);
  let stripped = false;
  if (u.username || u.password) {
    u.username = '';
    u.password = '';
    stripped = true;
  }
  for (const key of [...u.searchParams.keys()]) {
    if (/key|token|secret|passw|auth|sig/i.test(key)) {
      u.searchParams.delete(key);
      stripped = true;
    }
  }
  let url = u.toString().replace(/\/+$/, '');
  if (p.type === 'ollama') url = url.replace(/\/v1$/, '');
  return { url, stripped };
}

/** USD per 1M tokens -> USD per token, as LiteLLM wants it. */
const perToken = (usdPer1m: number) => usdPer1m / 1_000_000;

export interface LitellmExport {
  document: Record<string, unknown>;
  /** things the export could not carry over faithfully (literal keys, stripped credentials) */
  warnings: ConfigProblem[];
  /** variables whose values are secrets and must not appear in the file */
  secretVars: string[];
  /** model and capability budgets, which LiteLLM's format has no place for */
  unexportedBudgets: BudgetEntry[];
}

export function buildLitellmConfig(config: ResolvedConfig): LitellmExport {
  const warnings: ConfigProblem[] = [];
  const secretVars = new Set<string>();
  const rawProviders = (config.raw.providers as RawProviders)?.providers ?? {};

  const apiKeyRef = new Map<string, string | undefined>();
  for (const name of Object.keys(config.providers)) {
    const raw = rawProviders[name]?.api_key;
    let ref = pureVarRef(raw);
    if (ref) secretVars.add(ref);
    if (ref && !config.env[ref]) {
      // LiteLLM would fail on a reference to nothing; the provider runs without a key here too.
      warnings.push({
        file: 'litellm_config.yaml',
        path: `providers.${name}.api_key`,
        message: `not exported: \${${ref}} is not set, so the entry has no api_key`,
        severity: 'warning',
      });
      ref = undefined;
    } else if (!ref && raw !== undefined && raw !== null && raw !== '') {
      warnings.push({
        file: 'litellm_config.yaml',
        path: `providers.${name}.api_key`,
        message: 'not exported: only a ${VAR} reference can be written (as os.environ/VAR), never a literal key',
        severity: 'warning',
      });
    }
    apiKeyRef.set(name, ref);
  }

  const modelList: Record<string, unknown>[] = [];
  for (const model of Object.values(config.models)) {
    const embedding = isEmbeddingCapability(model.capability);
    model.targets.forEach((t, i) => {
      const p = config.providers[t.provider];
      const base = litellmApiBase(p);
      if (base.stripped) {
        warnings.push({
          file: 'litellm_config.yaml',
          path: `providers.${t.provider}.api_base`,
          message: 'credentials in the URL were left out of the export',
          severity: 'warning',
        });
      }
      const params: Record<string, unknown> = { model: litellmModel(p, t.model, embedding), api_base: base.url };
      const ref = apiKeyRef.get(t.provider);
      if (ref) params.api_key = `os.environ/${ref}`;
      params.input_cost_per_token = perToken(t.pricing?.input_usd_per_1m ?? 0);
      params.output_cost_per_token = perToken(t.pricing?.output_usd_per_1m ?? 0);
      params.timeout = p.timeout_s;
      params.order = i + 1;
      const entry: Record<string, unknown> = { model_name: model.name, litellm_params: params };
      if (embedding) entry.model_info = { mode: 'embedding' };
      modelList.push(entry);
    });
  }

  const providerBudgets: Record<string, { budget_limit: number; time_period: string }> = {};
  for (const b of config.budgets) {
    if (b.scope === 'provider') providerBudgets[b.target] = { budget_limit: b.max_budget_usd, time_period: b.budget_window };
  }

  const routerSettings: Record<string, unknown> = { enable_pre_call_checks: true };
  if (Object.keys(providerBudgets).length) routerSettings.provider_budget_config = providerBudgets;

  const litellmSettings: Record<string, unknown> = { callbacks: ['prometheus'] };
  if (config.gateway.cache.enabled) {
    litellmSettings.cache = true;
    litellmSettings.cache_params = { type: 'disk', disk_cache_dir: config.paths.cacheDir, ttl: config.gateway.cache.ttl_s };
  }

  const document: Record<string, unknown> = {
    model_list: modelList,
    router_settings: routerSettings,
    litellm_settings: litellmSettings,
  };

  const masterRef = masterKeyRef(config);
  if (masterRef) {
    secretVars.add(masterRef);
    document.general_settings = { master_key: `os.environ/${masterRef}` };
  } else if (config.gateway.master_key) {
    warnings.push({
      file: 'litellm_config.yaml',
      path: 'general_settings.master_key',
      message: 'not exported: the master key is a literal in gateway.yaml; reference it as ${VAR}',
      severity: 'warning',
    });
  }
  const unexported = config.budgets.filter((b) => b.scope !== 'provider');
  return { document, warnings, secretVars: [...secretVars], unexportedBudgets: unexported };
}

/** A name as it can sit in a comment line: plain, or JSON-quoted when it holds anything odd. */
const commentName = (name: string) => (/^[\x21-\x7e]+$/.test(name) && !name.startsWith('"') ? name : JSON.stringify(name));

/**
 * LiteLLM's config has provider budgets only. The model and capability budgets ptui enforces are
 * listed as comments so whoever runs LiteLLM from this file sees what it does not enforce.
 */
function unexportedBudgetsComment(budgets: BudgetEntry[]): string {
  if (budgets.length === 0) return '';
  const lines = budgets.map(
    (b) => `#   ${b.scope} ${commentName(b.target)}: max_budget_usd ${b.max_budget_usd} per ${b.budget_window}, action ${b.action}`,
  );
  return (
    "# Budgets LiteLLM's config cannot express (ptui enforces them; they are in budget_config.json):\n" +
    `${lines.join('\n')}\n`
  );
}

/** The variable the master key comes from: the environment override first, as the loader does. */
function masterKeyRef(config: ResolvedConfig): string | undefined {
  if (config.env.AI_BACKEND_MASTER_KEY) return 'AI_BACKEND_MASTER_KEY';
  const ref = pureVarRef((config.raw.gateway as RawGateway)?.master_key);
  return ref && config.env[ref] ? ref : undefined;
}

// LiteLLM reads YAML with PyYAML (YAML 1.1): `1e-7` without a dot would load as a string, and an
// unquoted `on`/`yes` as a boolean. So: the 1.1 schema (quotes such strings) and floats always
// written as plain decimals.
function plainDecimal(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [mantissa, expText] = n.toExponential().split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = 1 + Number(expText);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = `${digits}${'0'.repeat(point - digits.length)}.0`;
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + out;
}

const plainFloatTag = {
  identify: (v: unknown) => typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: /^[-+]?[0-9]*\.[0-9]+$/,
  resolve: (s: string) => Number.parseFloat(s),
  stringify: ({ value }: { value: unknown }) => plainDecimal(value as number),
};

const HEADER =
  '# Generated by `ptui config export` from config/*.yaml: edit those, not this file.\n' +
  '# LiteLLM proxy format. API keys are os.environ/ references; no secret is stored here.\n';

export function renderLitellmYaml(exp: LitellmExport, env: Env): string {
  const doc = new YAML.Document(exp.document, { version: '1.1', customTags: (tags) => [plainFloatTag, ...tags] });
  const text = HEADER + unexportedBudgetsComment(exp.unexportedBudgets) + doc.toString({ lineWidth: 0 });
  if (scrubSecretValues(text, env, exp.secretVars) !== text) {
    // Can only happen through a bug above; refuse rather than write a secret to disk.
    throw new Error('refusing to write litellm_config.yaml: it would contain a secret value');
  }
  return text;
}

export interface ExportResult {
  budgetPath: string;
  litellmPath: string;
  warnings: ConfigProblem[];
}

export function exportConfig(config: ResolvedConfig): ExportResult {
  const budgetPath = writeBudgetConfigJson(config);
  const exp = buildLitellmConfig(config);
  const litellmPath = config.paths.litellmConfigYaml;
  writeFileAtomic(litellmPath, renderLitellmYaml(exp, config.env));
  return { budgetPath, litellmPath, warnings: exp.warnings };
}

export function runConfigExport(opts: LoadOptions): number {
  const { config, problems } = loadConfig(opts);
  if (!config || hasErrors(problems)) {
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write('config export: nothing written; fix the errors above (ptui config check)\n');
    return 1;
  }
  let result: ExportResult;
  try {
    result = exportConfig(config);
  } catch (e) {
    process.stderr.write(`config export: ${(e as Error).message}\n`);
    return 1;
  }
  for (const p of [...problems, ...result.warnings]) process.stderr.write(`${formatProblem(p)}\n`);
  process.stdout.write(`wrote ${result.budgetPath} (${config.budgets.length} budgets)\n`);
  process.stdout.write(`wrote ${result.litellmPath}\n`);
  return 0;
}
