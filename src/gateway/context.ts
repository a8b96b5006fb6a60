// The one object a request carries through the callback pipeline (SPEC §6). The server fills
// the request side, callbacks may rewrite `body` or reject in onRequest, and the server fills
// the outcome side before onSuccess/onError run.
import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedConfig, ResolvedModel } from '../config/load.js';
import type { Target } from '../config/schema.js';
import type { GatewayError } from './errors.js';

export type Endpoint = 'chat' | 'completions' | 'embeddings';

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A response a callback (the cache) supplies instead of calling upstream. */
export interface ShortCircuitResponse {
  /** non-streamed: the JSON body; streamed: the SSE `data:` payloads in order, without `[DONE]` */
  body?: string;
  sseEvents?: string[];
  provider: string;
  concreteModel: string;
  usage: TokenUsage | null;
}

export interface RequestContext {
  readonly requestId: string;
  /** epoch ms at request start (usage-log timestamp) */
  readonly startedAt: number;
  /** performance.now() at request start */
  readonly startMono: number;
  readonly endpoint: Endpoint;
  readonly headers: IncomingHttpHeaders;
  /** the config snapshot this request runs on, fixed for its whole life (hot reload safe) */
  readonly config: ResolvedConfig;

  /** the parsed JSON body; onRequest callbacks may rewrite it (redaction) before it is sent */
  body: Record<string, unknown> | null;
  stream: boolean;
  /** the client itself asked for stream_options.include_usage */
  clientWantsUsage: boolean;
  logicalModel: string | null;
  model: ResolvedModel | null;
  capability: string | null;
  targets: Target[];

  /** set by a callback to answer without an upstream call (cache hit) */
  shortCircuit: ShortCircuitResponse | null;
  /** set by a callback that wants the assembled response in onSuccess (cache write) */
  captureResponse: boolean;
  /** the assembled response when captureResponse was set: JSON body, or SSE data payloads */
  capturedBody: string | null;
  capturedEvents: string[] | null;

  /** extra response headers callbacks add (x-backend-budget-warning, x-backend-cache) */
  responseHeaders: Record<string, string>;

  // outcome, filled by the server before onSuccess/onError
  provider: string | null;
  concreteModel: string | null;
  target: Target | null;
  attempts: number;
  usage: TokenUsage | null;
  costUsd: number;
  httpStatus: number;
  error: GatewayError | null;
  latencyMs: number;
  ttftMs: number | null;
  /** time spent waiting on upstream, so overhead = latency - upstream */
  upstreamMs: number;
  cacheHit: boolean;

  /** per-callback scratch space, keyed by callback name */
  readonly state: Record<string, unknown>;
}
