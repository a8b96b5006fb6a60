// The logical config as people read it: routing table (logical model -> capability -> targets in
// fallback order), providers, budgets, gateway settings. Every value comes from the YAML as
// written, redacted, never from the resolved environment, so nothing secret can leak through it.
// Shared by `ptui config print` and the dashboard's routing view.
import { type Env } from './env.js';
import { formatKeyPath } from './problems.js';
import type { ResolvedConfig } from './load.js';
import { isVarSet, redactSecret, redactValue } from './redact.js';
import type { BudgetEntry, Target } from './schema.js';

export interface LogicalTarget {
  order: number;
  provider: string;
  type: string;
  api_base: string;
  model: string;
  /** USD per 1M tokens; null = no pricing = free (local GPU) */
  pricing: { input_usd_per_1m: number; output_usd_per_1m: number } | null;
  /** listed under `fallbacks:`: tried once every target failed or was passed over */
  fallback: boolean;
}

export interface LogicalRoute {
  model: string;
  capability: string;
  /** ordered: targets in order; balanced: targets share the load */
  routing: 'ordered' | 'balanced';
  /** the targets, then the fallbacks */
  targets: LogicalTarget[];
}

export interface LogicalProvider {
  name: string;
  type: string;
  api_base: string;
  api_key: string | null;
  service: string | null;
  health_url: string | null;
  timeout_s: number;
}

export interface LogicalConfig {
  paths: { home: string; config_dir: string; runtime_dir: string; usage_db: string; cache_dir: string };
  routes: LogicalRoute[];
  providers: LogicalProvider[];
  budgets: BudgetEntry[];
  gateway: {
    listen: string;
    master_key: string | null;
    auth: boolean;
    max_body_bytes: number;
    guardrails: { secrets: string };
    cache: { enabled: boolean; ttl_s: number; max_bytes: number };
    callbacks: string[];
  };
  systemctl_scope: string;
  variables: { name: string; set: boolean; used_at: string[] }[];
}

type Obj = Record<string, unknown>;
const get = (v: unknown, ...keys: string[]): unknown => {
  for (const k of keys) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined;
  return v;
};

export function logicalConfig(config: ResolvedConfig): LogicalConfig {
  const env: Env = config.env;
  const rawProviders = config.raw.providers;
  const rawMappings = config.raw.mappings;
  const rawGateway = config.raw.gateway;
  const shown = (raw: unknown, fallback: string) => redactValue(raw, env) ?? fallback;

  const providers: LogicalProvider[] = Object.entries(config.providers).map(([name, p]) => ({
    name,
    type: p.type,
    api_base: shown(get(rawProviders, 'providers', name, 'api_base'), p.api_base),
    api_key: redactSecret(get(rawProviders, 'providers', name, 'api_key'), env) ?? null,
    service: p.service ?? null,
    health_url: p.health_url ? shown(get(rawProviders, 'providers', name, 'health_url'), p.health_url) : null,
    timeout_s: p.timeout_s,
  }));
  const byName = new Map(providers.map((p) => [p.name, p]));

  const routes: LogicalRoute[] = Object.values(config.models).map((m) => {
    const entry = (list: 'targets' | 'fallbacks', t: Target, i: number, order: number): LogicalTarget => ({
      order,
      provider: t.provider,
      type: config.providers[t.provider].type,
      api_base: byName.get(t.provider)!.api_base,
      model: redactValue(get(rawMappings, 'models', m.name, list, String(i), 'model'), env) ?? t.model,
      pricing: t.pricing ? { ...t.pricing } : null,
      fallback: list === 'fallbacks',
    });
    const fallbacks = m.fallbacks ?? [];
    return {
      model: m.name,
      capability: m.capability,
      routing: m.routing ?? 'ordered',
      targets: [...m.targets.map((t, i) => entry('targets', t, i, i + 1)), ...fallbacks.map((t, i) => entry('fallbacks', t, i, m.targets.length + i + 1))],
    };
  });

  const envMaster = isVarSet(env, 'AI_BACKEND_MASTER_KEY');
  const master = envMaster ? '${AI_BACKEND_MASTER_KEY} (set)' : (redactSecret(get(rawGateway, 'master_key'), env) ?? null);

  const variables = new Map<string, { name: string; set: boolean; used_at: string[] }>();
  for (const r of config.varRefs) {
    const v = variables.get(r.name) ?? { name: r.name, set: r.set, used_at: [] };
    v.used_at.push(`${r.file}: ${formatKeyPath(r.path)}`);
    variables.set(r.name, v);
  }

  return {
    paths: {
      home: config.paths.home,
      config_dir: config.paths.configDir,
      runtime_dir: config.paths.runtimeDir,
      usage_db: config.paths.usageDb,
      cache_dir: config.paths.cacheDir,
    },
    routes,
    providers,
    budgets: config.budgets.map((b) => ({ ...b })),
    gateway: {
      listen: `${config.listen.host}:${config.listen.port}`,
      master_key: master,
      auth: Boolean(config.gateway.master_key),
      max_body_bytes: config.gateway.max_body_bytes,
      guardrails: { secrets: config.gateway.guardrails.secrets.action },
      cache: { ...config.gateway.cache },
      callbacks: [...config.gateway.callbacks],
    },
    systemctl_scope: config.systemctlScope,
    variables: [...variables.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}
