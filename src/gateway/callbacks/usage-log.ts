// Writes one usage-log row per request, from the same context fields the metrics
// callback reads, so /metrics and the log always agree. Never stores prompt or completion text.
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { Callback, type CallbackDeps } from '../pipeline.js';
import type { Context } from '../context.js';
import type { UsageRow } from '../../usage/schema.js';
import type { UsageLogHooks } from '../../usage/log.js';
import { findSecrets, redactText } from '../../security/scan.js';
import { KEY_IN_TEXT_RE, KEY_PREFIX } from '../../keys/key.js';

/** Longest error_message stored: enough to diagnose, too short to carry a prompt. */
export const MAX_ERROR_MESSAGE = 200;
/** Client-sent model names are stored (to show what was asked for) but capped. */
export const MAX_MODEL_NAME = 128;

// Control characters would garble the dashboard's one-line rows.
const CONTROL_RE = /[\u0000-\u001f\u007f]+/g;
// V8's JSON.parse errors quote the body around the error (`Unexpected token 'h', "hello my key is…"
// is not valid JSON`, or `..."content":sk-proj-Az"...` further in): that is prompt text, so the
// quote goes before the message is stored.
const JSON_SNIPPET_RE = /(Unexpected token .{1,8}?), (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON/s;
const JSON_WHOLE_RE = /^".*"(?:\.\.\.)? is not valid JSON$/s;

/** An error message fit for the log: no quoted request body, no secret, one line, short. */
export function safeErrorMessage(message: string): string {
  const m = JSON_WHOLE_RE.test(message) ? 'body is not valid JSON' : message.replace(JSON_SNIPPET_RE, '$1 in a body that is not valid JSON');
  // Scanned before clipping, so a key cut in half cannot slip past the detectors.
  return clip(withoutSecrets(m), MAX_ERROR_MESSAGE)!;
}

/**
 * Client text a row carries outside the prompt (an unknown model name, an error quoting it) with
 * any secret replaced by its marker: a key pasted into "model" must not be stored.
 */
function withoutSecrets(s: string): string {
  const found = findSecrets(s);
  const clean = found.length ? redactText(s, found) : s;
  // ptui's own virtual keys, e.g. one pasted as the model name
  return clean.includes(KEY_PREFIX) ? clean.replace(KEYS_IN_TEXT_RE, '[REDACTED:ptui_key]') : clean;
}

const KEYS_IN_TEXT_RE = new RegExp(KEY_IN_TEXT_RE.source, 'g');

function clip(s: string | null | undefined, max: number): string | null {
  if (s == null) return null;
  const one = s.replace(CONTROL_RE, ' ');
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

/** The hooks that turn UsageLog trouble into metrics and log lines. */
export function usageLogHooks(metrics: GatewayMetrics, log: Logger): UsageLogHooks {
  return {
    onWriteError(err) {
      metrics.usageLogErrors.inc();
      log.error('usage_log_write_failed', { error: err.message, code: (err as { code?: string }).code });
    },
    onReopened(why) {
      metrics.usageLogReopened.inc();
      log.warn('usage_log_reopened', { why, note: 'the usage log file was deleted, moved or replaced while open; recreated with every row' });
    },
    onBuffered(n) {
      metrics.usageLogBuffered.set(n);
    },
    onDropped(n, row) {
      metrics.usageLogDropped.inc(n);
      // The log line is the row's last record: ids, names and numbers only, never text from the request.
      log.error('usage_row_dropped', {
        request_id: row?.request_id,
        timestamp: row?.timestamp,
        provider: row?.provider,
        logical_model: row?.logical_model,
        status: row?.status,
        http_status: row?.http_status,
        prompt_tokens: row?.prompt_tokens,
        completion_tokens: row?.completion_tokens,
        cost_usd: row?.cost_usd,
      });
    },
  };
}

/** The row for a finished request; exported for tests and tools that replay contexts. */
export function usageRowFromContext(ctx: Context, status: 'success' | 'error'): UsageRow {
  const u = ctx.usage;
  const err = status === 'error' ? ctx.error : null;
  return {
    request_id: ctx.requestId,
    timestamp: new Date(ctx.startedAt).toISOString(),
    provider: ctx.answeredBy?.provider ?? null,
    // A configured model's name is the operator's; anything else is client text.
    logical_model: ctx.model || ctx.logicalModel === null ? clip(ctx.logicalModel, MAX_MODEL_NAME) : clip(withoutSecrets(ctx.logicalModel), MAX_MODEL_NAME),
    concrete_model: ctx.answeredBy?.model ?? null,
    capability: ctx.capability,
    endpoint: ctx.endpoint,
    stream: ctx.stream ? 1 : 0,
    prompt_tokens: u ? u.prompt_tokens : null,
    completion_tokens: u ? u.completion_tokens : null,
    total_tokens: u ? u.total_tokens : null,
    cost_usd: ctx.costUsd,
    latency_ms: ctx.latencyMs,
    ttft_ms: ctx.ttftMs,
    status,
    http_status: ctx.httpStatus,
    error_type: err ? err.code : null,
    error_message: err ? safeErrorMessage(err.message) : null,
    cache_hit: ctx.cacheHit ? 1 : 0,
    attempts: ctx.attempts,
    // The provider's count whenever there is one; a request ptui counted itself says 'estimated'.
    usage_source: u ? (ctx.usageSource ?? 'upstream') : null,
    // the alias, never the key
    key_alias: ctx.apiKey?.alias ?? null,
  };
}

const IN_FLIGHT = 'in-flight';

export class UsageLogCallback extends Callback {
  readonly name = 'usage-log';
  override readonly holdsAnswer = true;

  constructor(deps: CallbackDeps) {
    super(deps);
    deps.usage.setHooks(usageLogHooks(deps.metrics, deps.log));
  }

  /**
   * Requests between this callback's onRequest and their record here. Rows of one event-loop turn
   * share a commit; when no other request is on its way, none can join this one's, and waiting
   * for the turn to end would only delay the answer.
   */
  private inFlight = 0;

  override onRequest(ctx: Context): void {
    ctx.state[this.name] = IN_FLIGHT;
    this.inFlight++;
  }

  /** Resolves once the row is written (see UsageLog.written): the server sends the end of the answer after that. */
  override onSuccess(ctx: Context): Promise<void> {
    this.landed(ctx);
    const usage = this.deps.usage;
    usage.insert(usageRowFromContext(ctx, 'success'));
    if (this.inFlight === 0) usage.writePending();
    return usage.written();
  }

  override onError(ctx: Context): void {
    this.landed(ctx);
    this.deps.usage.insert(usageRowFromContext(ctx, 'error'));
  }

  private landed(ctx: Context): void {
    if (ctx.state[this.name] !== IN_FLIGHT) return;
    ctx.state[this.name] = null;
    this.inFlight--;
  }

  /** The gateway owns the log and closes it; here we only push buffered rows out. */
  override close(): void {
    this.deps.usage.flush();
  }
}
