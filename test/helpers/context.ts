// Real request contexts for callback-level tests: the gateway's own Context class, filled by the
// same calls the server makes (acceptBody for the request side; the outcome as the exchange and
// the fallback loop write it).
import type { ResolvedConfig } from '../../src/config/load.js';
import type { Target } from '../../src/config/schema.js';
import { acceptBody } from '../../src/gateway/body.js';
import { Context, type Endpoint } from '../../src/gateway/context.js';
import type { GatewayError } from '../../src/gateway/errors.js';

let n = 0;

/** A context as the server builds it before running onRequest. */
export function makeContext(
  config: ResolvedConfig,
  body: Record<string, unknown>,
  opts: { endpoint?: Endpoint; headers?: Record<string, string> } = {},
): Context {
  const ctx = new Context(`test-${++n}`, opts.endpoint ?? 'chat', opts.headers ?? {}, config, performance.now());
  acceptBody(ctx, body);
  return ctx;
}

/** Fills the outcome side as the fallback loop does after a successful upstream call. */
export function succeed(ctx: Context, costUsd: number, target: Target = ctx.targets[0]!): Context {
  ctx.answeredBy = target;
  ctx.costUsd = costUsd;
  ctx.httpStatus = 200;
  ctx.attempts = 1;
  return ctx;
}

/** How a finished request turned out, for finishedContext. */
export interface Outcome {
  logicalModel?: string | null;
  provider?: string | null;
  stream?: boolean;
  endpoint?: Endpoint;
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

const bodyFor = (endpoint: Endpoint, model: string, stream: boolean): Record<string, unknown> => {
  const text = 'PROMPT-TEXT-MUST-NOT-BE-STORED';
  if (endpoint === 'embeddings') return { model, input: text };
  if (endpoint === 'completions') return { model, prompt: text, stream };
  return { model, messages: [{ role: 'user', content: text }], stream };
};

/**
 * A context as the server leaves it before onSuccess/onError: the body accepted (an unknown model
 * stays unresolved, as after a 404), then the outcome. A cache hit goes through the server's own
 * writer, so its cost is 0 whatever `costUsd` says.
 */
export function finishedContext(config: ResolvedConfig, o: Outcome = {}): Context {
  const logicalModel = o.logicalModel === undefined ? 'gpt-4' : o.logicalModel;
  const endpoint = o.endpoint ?? 'chat';
  const stream = o.stream ?? false;
  const ctx = new Context(`ctx-${++n}`, endpoint, {}, config, 0);
  // startedAt is the wall clock at construction; a test that pins the row's timestamp overrides it.
  Object.defineProperty(ctx, 'startedAt', { value: o.startedAt ?? Date.UTC(2026, 10, 27, 7, 0, 0, n % 1000) });
  if (logicalModel !== null) {
    try {
      acceptBody(ctx, bodyFor(endpoint, logicalModel, stream));
    } catch {
      // an unknown model: the request side stays as far as acceptBody got
    }
  }
  ctx.stream = stream;
  const model = ctx.model;
  const provider = o.provider === undefined ? (model ? model.targets[0]!.provider : null) : o.provider;
  const target = model && provider ? model.targets.find((t) => t.provider === provider) : undefined;
  ctx.answeredBy = provider === null ? null : target ?? { provider, model: 'unknown' };
  const usage = o.usage === undefined ? { prompt_tokens: 10, completion_tokens: 5 } : o.usage;
  ctx.usage = usage ? { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } : null;
  ctx.attempts = o.attempts ?? (provider ? 1 : 0);
  ctx.costUsd = o.costUsd ?? 0;
  ctx.error = o.error ?? null;
  ctx.httpStatus = o.httpStatus ?? (o.error ? o.error.status : 200);
  ctx.latencyMs = o.latencyMs ?? 250;
  ctx.ttftMs = o.ttftMs === undefined ? (stream ? 40 : null) : o.ttftMs;
  ctx.upstreamMs = o.upstreamMs ?? 249;
  if (o.cacheHit) {
    ctx.answeredFromShortCircuit({ answeredBy: ctx.answeredBy ?? { provider: 'none', model: 'none' }, usage: ctx.usage });
    ctx.upstreamMs = o.upstreamMs ?? 0;
  }
  return ctx;
}
