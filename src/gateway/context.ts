// The one object a request carries through the callback pipeline (see docs/ARCHITECTURE.md,
// "A request's path"). Three groups of fields, each with its writers:
//   - the request side: the server fills it from the headers and the accepted body
//     (acceptBody in body.ts); onRequest callbacks may rewrite `body` (redaction), narrow
//     `targets` (provider budgets), add `responseHeaders`, or set `shortCircuit` (cache hit);
//   - the callbacks' requests to the server: `shortCircuit`, `captureResponse`, `forwardsSecret`;
//   - the outcome: written by the server only (exchange, fallback loop, reply), before
//     onSuccess/onError run. Callbacks read it, never write it.
// One class, so every context has the same shape (monomorphic property access on the hot path).
import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedConfig, ResolvedModel } from '../config/load.js';
import type { Target } from '../config/schema.js';
import type { KeyRecord } from '../keys/schema.js';
import type { GatewayError } from './errors.js';
import type { BodySource } from '../security/request.js';

export type Endpoint = 'chat' | 'completions' | 'embeddings' | 'responses';

/** Token counts in OpenAI's usage shape: what providers report and what cost is computed over. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Who answered: the provider and its concrete model (a target, or a cached answer's origin). */
export interface AnsweredBy {
  provider: string;
  model: string;
}

/** A response a callback (the cache) supplies instead of calling upstream. */
export interface ShortCircuitResponse {
  /** non-streamed: the JSON body; streamed: the SSE `data:` payloads in order, without `[DONE]` */
  body?: string;
  sseEvents?: string[];
  answeredBy: AnsweredBy;
  usage: TokenUsage | null;
}

export class Context {
  /** epoch ms at request start (usage-log timestamp) */
  readonly startedAt = Date.now();

  // ---- request side ----
  /** the parsed JSON body; onRequest callbacks may rewrite it (redaction) before it is sent */
  body: Record<string, unknown> | null = null;
  /** the JSON text the server parsed into `body` (read it through source()) */
  bodySource: (BodySource & { body: Record<string, unknown> }) | null = null;
  /** the token estimate of `body`, and the body it was made from (see requestEstimate) */
  estimate: { body: Record<string, unknown> | null; tokens: TokenUsage } | null = null;
  stream = false;
  /** the client itself asked for stream_options.include_usage */
  clientWantsUsage = false;
  /** the model name the client sent (kept even when it is unknown, for the row) */
  logicalModel: string | null = null;
  model: ResolvedModel | null = null;
  capability: string | null = null;
  /** the targets to try in order; the budgets callback may drop providers that may not spend */
  targets: Target[] = [];
  /** the virtual key the request authenticated with (null: master key, or no auth configured) */
  apiKey: KeyRecord | null = null;
  /** extra response headers callbacks add (x-backend-budget-warning, x-backend-cache) */
  responseHeaders: Record<string, string> = {};

  // ---- set by callbacks for the server ----
  /** answer without an upstream call (cache hit) */
  shortCircuit: ShortCircuitResponse | null = null;
  /** keep the assembled response for onSuccess (cache write) */
  captureResponse = false;
  /** the body still carries a secret (guardrails in warn mode): its answer must not be stored */
  forwardsSecret = false;

  // ---- outcome, written by the server before onSuccess/onError ----
  /** the assembled response when captureResponse was set: JSON body, or SSE data payloads */
  capturedBody: string | null = null;
  capturedEvents: string[] | null = null;
  /** the target of the last attempt (who answered, on success), or a cached answer's origin */
  answeredBy: AnsweredBy | null = null;
  attempts = 0;
  usage: TokenUsage | null = null;
  /** who counted `usage`: the provider, or ptui (a stream cut short, or one that sent no usage) */
  usageSource: 'upstream' | 'estimated' | null = null;
  /** what this request costs: 0 for a cache hit or an unpriced target */
  costUsd = 0;
  httpStatus = 0;
  error: GatewayError | null = null;
  latencyMs = 0;
  ttftMs: number | null = null;
  /** time spent waiting on upstream, so overhead = latency - upstream */
  upstreamMs = 0;
  cacheHit = false;

  /** per-callback scratch space, keyed by callback name; private to that callback */
  readonly state: Record<string, unknown> = {};

  constructor(
    readonly requestId: string,
    readonly endpoint: Endpoint,
    readonly headers: IncomingHttpHeaders,
    /** the config snapshot this request runs on, fixed for its whole life (hot reload safe) */
    readonly config: ResolvedConfig,
    /** performance.now() at request start */
    readonly startMono: number = performance.now(),
  ) {}

  /** The JSON text `body` was parsed from, while `body` is still that parse (null once a callback replaced it). */
  source(): BodySource | null {
    const s = this.bodySource;
    return s !== null && s.body === this.body ? s : null;
  }

  /** The request's logical model is known: its capability and targets follow from it. */
  useModel(model: ResolvedModel): void {
    this.model = model;
    this.capability = model.capability;
    // Fallbacks ride along so the budgets callback narrows them too; routing tells them apart.
    this.targets = model.fallbacks?.length ? [...model.targets, ...model.fallbacks] : model.targets;
  }

  /** The outcome of an answer a callback supplied (a cache hit): free, and nobody was called. */
  answeredFromShortCircuit(sc: ShortCircuitResponse): void {
    this.answeredBy = sc.answeredBy;
    this.usage = sc.usage;
    this.usageSource = sc.usage ? 'upstream' : null;
    this.cacheHit = true;
    this.costUsd = 0;
    this.httpStatus = 200;
  }
}
