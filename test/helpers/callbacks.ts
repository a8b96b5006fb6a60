// Real callback dependencies for callback-level tests: a config loaded from a temp home, a real
// usage log (SQLite file), a fresh metrics registry and a logger whose lines are kept for
// assertions; plus the small priced config the budget and cache suites share.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/gateway/log.js';
import { createMetrics, type GatewayMetrics } from '../../src/gateway/metrics.js';
import type { CallbackDeps } from '../../src/gateway/pipeline.js';
import { exportBudgetConfig } from '../../src/gateway/reload.js';
import { UsageLog } from '../../src/usage/log.js';
import type { UsageRow } from '../../src/usage/schema.js';
import { makeHome, type HomeFiles, type TempHome } from './config.js';
import { sampleRow } from './usage.js';

export interface Harness {
  home: TempHome;
  deps: CallbackDeps;
  metrics: GatewayMetrics;
  logs: Array<Record<string, unknown>>;
  config(): ResolvedConfig;
  /** rewrites config files and reloads as the gateway's reload step does (budget_config.json too); returns the new config */
  reload(files: HomeFiles): ResolvedConfig;
  close(): void;
}

export function load(home: string, env: Record<string, string> = {}): ResolvedConfig {
  const r = loadConfig({ home, env: { ...env } });
  if (!r.config) throw new Error(`test config invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

export function harness(files: HomeFiles, env: Record<string, string> = {}): Harness {
  const home = makeHome(files);
  let config = load(home.home, env);
  const metrics = createMetrics();
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', (line) => logs.push(JSON.parse(line)));
  const usage = UsageLog.open(config.paths.usageDb);
  const deps: CallbackDeps = { getConfig: () => config, metrics, log, usage };
  // what the gateway does with every config it takes, at start and on reload
  exportBudgetConfig(config, log);
  return {
    home,
    deps,
    metrics,
    logs,
    config: () => config,
    reload(next) {
      // Rendered by makeHome in a scratch home, then copied over this home's files.
      const scratch = makeHome(next);
      for (const f of ['providers.yaml', 'model-mappings.yaml', 'gateway.yaml']) {
        const src = path.join(scratch.configDir, f);
        if (fs.existsSync(src)) fs.copyFileSync(src, path.join(home.configDir, f));
      }
      scratch.cleanup();
      config = load(home.home, env);
      exportBudgetConfig(config, log);
      return config;
    },
    close() {
      usage.close();
      home.cleanup();
    },
  };
}

let n = 0;

/** A recent row of the priced model of mappings() (sampleRow, re-aimed). */
export function usageRow(over: Partial<UsageRow>): UsageRow {
  return sampleRow({
    request_id: `row-${++n}`,
    timestamp: new Date().toISOString(),
    provider: 'paid',
    logical_model: 'chat-paid',
    concrete_model: 'm',
    stream: 0,
    ttft_ms: null,
    cost_usd: 0,
    ...over,
  });
}

export const PROVIDERS = {
  providers: {
    paid: { type: 'openai', api_base: 'http://127.0.0.1:9/v1' },
    backup: { type: 'openai-compatible', api_base: 'http://127.0.0.1:9/v1' },
    local: { type: 'openai-compatible', api_base: 'http://127.0.0.1:9/v1' },
  },
};

/** $1 per 1000 tokens in and out: costs in tests are easy to reason about. */
export const PRICE = { input_usd_per_1m: 1000, output_usd_per_1m: 1000 };

export function mappings(over: { modelBudget?: unknown; capabilityBudget?: unknown } = {}) {
  return {
    capabilities: { chat: over.capabilityBudget ? { budget: over.capabilityBudget } : {}, code: {} },
    models: {
      'chat-paid': {
        capability: 'chat',
        ...(over.modelBudget ? { budget: over.modelBudget } : {}),
        targets: [
          { provider: 'paid', model: 'm', pricing: PRICE },
          { provider: 'backup', model: 'm2', pricing: PRICE },
        ],
      },
      'chat-local': { capability: 'chat', targets: [{ provider: 'local', model: 'l' }] },
      coder: { capability: 'code', targets: [{ provider: 'local', model: 'c' }] },
    },
  };
}

/** Current value of a metric series (0 when the series does not exist). */
export async function metricValue(h: Harness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = h.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const v = data.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

/** The repo's sample config, loaded from a temp home (removed again). */
export function sampleResolvedConfig(): ResolvedConfig {
  const home = makeHome();
  try {
    return load(home.home);
  } finally {
    home.cleanup();
  }
}

/** Callback deps over a given config and usage log; log lines are pushed to `logLines`. */
export function callbackDeps(config: ResolvedConfig, usage: UsageLog, logLines: string[] = []): CallbackDeps {
  return {
    getConfig: () => config,
    metrics: createMetrics(),
    log: createLogger('debug', (line) => logLines.push(line)),
    usage,
  };
}
