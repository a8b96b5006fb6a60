// Real RequestContexts on a real config (the repo's sample, loaded from a temp home) and real
// callback deps, for the usage-log and metrics callback suites.
import { loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import type { RequestContext } from '../../src/gateway/context.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { createLogger } from '../../src/gateway/log.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import type { CallbackDeps } from '../../src/gateway/pipeline.js';
import type { UsageLog } from '../../src/usage/log.js';
import { makeHome } from '../helpers/config.js';

export function sampleResolvedConfig(): ResolvedConfig {
  const home = makeHome();
  try {
    const { config, problems } = loadConfig({ home: home.home, env: {} });
    if (!config) throw new Error('sample config did not load: ' + JSON.stringify(problems));
    return config;
  } finally {
    home.cleanup();
  }
}

export interface Outcome {
  logicalModel?: string | null;
  provider?: string | null;
  stream?: boolean;
  endpoint?: RequestContext['endpoint'];
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  costUsd?: number;
  latencyMs?: number;
  upstreamMs?: number;
  ttftMs?: number | null;
  attempts?: number;
  httpStatus?: number;
  error?: GatewayError | null;
  cacheHit?: boolean;
  startedAt?: number;
}

let n = 0;

/** A context as the server leaves it before onSuccess/onError. */
export function buildContext(config: ResolvedConfig, o: Outcome = {}): RequestContext {
  n++;
  const logicalModel = o.logicalModel === undefined ? 'gpt-4' : o.logicalModel;
  const model = logicalModel !== null && Object.hasOwn(config.models, logicalModel) ? config.models[logicalModel]! : null;
  const provider = o.provider === undefined ? (model ? model.targets[0]!.provider : null) : o.provider;
  const target = model && provider ? (model.targets.find((t) => t.provider === provider) ?? null) : null;
  const usage = o.usage === undefined ? { prompt_tokens: 10, completion_tokens: 5 } : o.usage;
  return {
    requestId: `ctx-${n}`,
    startedAt: o.startedAt ?? Date.UTC(2026, 10, 27, 7, 0, 0, n % 1000),
    startMono: 0,
    endpoint: o.endpoint ?? 'chat',
    headers: {},
    config,
    body: { model: logicalModel, messages: [{ role: 'user', content: 'PROMPT-TEXT-MUST-NOT-BE-STORED' }] },
    stream: o.stream ?? false,
    clientWantsUsage: false,
    logicalModel,
    model,
    capability: model ? model.capability : null,
    targets: model ? model.targets : [],
    shortCircuit: null,
    captureResponse: false,
    capturedBody: null,
    capturedEvents: null,
    responseHeaders: {},
    provider,
    concreteModel: target ? target.model : null,
    target,
    attempts: o.attempts ?? (provider ? 1 : 0),
    usage: usage ? { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } : null,
    costUsd: o.costUsd ?? 0,
    httpStatus: o.httpStatus ?? (o.error ? o.error.status : 200),
    error: o.error ?? null,
    latencyMs: o.latencyMs ?? 250,
    ttftMs: o.ttftMs === undefined ? (o.stream ? 40 : null) : o.ttftMs,
    upstreamMs: o.upstreamMs ?? 249,
    cacheHit: o.cacheHit ?? false,
    state: {},
  };
}

export function buildDeps(config: ResolvedConfig, usage: UsageLog, logLines: string[] = []): CallbackDeps {
  return {
    getConfig: () => config,
    metrics: createMetrics(),
    log: createLogger('debug', (line) => logLines.push(line)),
    usage,
  };
}
