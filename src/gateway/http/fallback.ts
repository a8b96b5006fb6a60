// The targets of one request, tried in the order routing plans (balanced or ordered, passing over
// drained, cooling and saturated providers, fallbacks after): the next one on a connect error, a
// timeout, a 5xx or a 429, but only while no byte has gone to the client. Each attempt's outcome
// feeds its provider's cool-down and in-flight count. Each attempt sends a payload built for
// its target (the concrete model, usage asked for on streams); the request's body is never
// changed. The answer that succeeds is relayed (JSON whole, SSE event by event) and its outcome
// (who answered, usage, cost, status) written on the context; when every attempt failed, the
// failure notes become one 502 or 504.
import type { Dispatcher } from 'undici';
import type { Target } from '../../config/schema.js';
import type { Context } from '../context.js';
import { costUsd, readUsage } from '../cost.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { errorFrame, planResponses, responsesJson, responsesRelay, type ResponsesPlan } from '../responses/attempt.js';
import { SseRelay } from '../sse.js';
import type { Routing } from '../routing/routing.js';
import type { Snapshot } from '../snapshot.js';
import { classifyUpstreamError, describeUpstreamError, type FailureKind, type ProviderClient } from '../upstream.js';
import { clientClosed, JSON_TYPE, SSE_DONE, type Reply } from './reply.js';

/** What the pump needs of a stream relay (the chat one, or a Responses one). */
interface StreamRelay {
  feed(chunk: Buffer): boolean;
  end(): boolean;
  readonly sawContent: boolean;
  readonly bytesOut: number;
}

interface Failure {
  kind: FailureKind | 'status';
  detail: string;
}

/** How one attempt counts for its provider's cool-down. */
type Outcome = 'success' | 'failure' | 'neutral';

const INCLUDE_USAGE = Object.freeze({ include_usage: true });

/**
 * The JSON one attempt sends: the body with the target's concrete model, and on streams usage
 * asked for (the relay drops that extra chunk when the client did not ask for it).
 */
export function upstreamPayload(body: Record<string, unknown>, model: string, stream: boolean): string {
  if (!stream) return JSON.stringify({ ...body, model });
  const so = body.stream_options;
  return JSON.stringify({ ...body, model, stream_options: so ? { ...(so as object), include_usage: true } : INCLUDE_USAGE });
}

export class FallbackLoop {
  private readonly failures: Failure[] = [];
  /** the current attempt's outcome for its provider, set where it is decided */
  private outcome: Outcome = 'neutral';

  constructor(
    private readonly ctx: Context,
    private readonly snap: Snapshot,
    private readonly reply: Reply,
    private readonly log: Logger,
    private readonly routing: Routing,
    private readonly inFlight: GatewayMetrics['inFlight'] | null = null,
  ) {}

  async run(): Promise<void> {
    const ctx = this.ctx;
    const plan = ctx.model ? this.routing.plan(ctx.model, this.snap.config, ctx.targets) : { attempts: ctx.targets, note: null };
    if (plan.note) {
      // provider names come from YAML keys: keep the header to printable ASCII
      ctx.responseHeaders['x-backend-routing'] = plan.note.replace(/[^\x20-\x7e]/g, '?');
      this.log.warn('routing_all_passed_over', { request_id: ctx.requestId, model: ctx.model?.name ?? null, note: plan.note });
    }
    const states = this.routing.states;
    for (const target of plan.attempts) {
      const client = this.snap.clients.get(target.provider);
      if (!client) continue;
      const gauge = this.inFlight?.labels(target.provider);
      gauge?.inc();
      states.begin(target.provider);
      this.outcome = 'failure';
      let done = false;
      try {
        done = await this.attempt(client, target);
      } finally {
        gauge?.dec();
        states.end(target.provider, client.provider, this.reply.clientGone ? 'neutral' : this.outcome);
      }
      if (done) return;
    }
    const summary = this.failures.map((f) => f.detail).join('; ') || 'no usable target';
    const last = this.failures[this.failures.length - 1];
    if (last?.kind === 'timeout') throw new GatewayError(504, 'upstream_timeout', `upstream timed out (${summary})`);
    throw new GatewayError(502, 'upstream_error', `all ${ctx.attempts} upstream attempt(s) failed (${summary})`);
  }

  /** One target; false = it failed before any byte reached the client (try the next one). */
  private async attempt(client: ProviderClient, target: Target): Promise<boolean> {
    const ctx = this.ctx;
    const reply = this.reply;
    ctx.attempts++;
    ctx.answeredBy = target;
    const plan = ctx.endpoint === 'responses' ? planResponses(ctx.config.providers[target.provider], ctx.body!, target.model, ctx.stream) : null;
    const payload = plan ? plan.payload : upstreamPayload(ctx.body!, target.model, ctx.stream);
    reply.startAttempt();
    let up: Dispatcher.ResponseData;
    try {
      up = await client.pool.request({
        path: client.paths[plan ? plan.path : ctx.endpoint],
        method: 'POST',
        headers: client.headers,
        body: payload,
        signal: reply.signal,
      });
    } catch (err) {
      return this.failed(target, err);
    }
    const status = up.statusCode;
    if (status >= 500 || status === 429) {
      // A rate limit says the upstream is alive: it moves on without counting toward a cool-down.
      if (status === 429) this.outcome = 'neutral';
      await up.body.dump().catch(() => {});
      reply.endAttempt();
      this.note(target, 'status', `HTTP ${status}`);
      return false;
    }
    if (ctx.stream && status === 200) return plan ? this.relayResponses(up, target, plan) : this.relayStream(up, target);
    let buf: Buffer;
    try {
      buf = await readAll(up.body);
    } catch (err) {
      return this.failed(target, err);
    }
    reply.endAttempt();
    // A 4xx is the request's fault, not the upstream's; invalid JSON (thrown below) stays a failure.
    this.outcome = status >= 400 ? 'neutral' : 'failure';
    this.finishJson(up, buf, target, status, plan);
    if (status < 400) this.outcome = 'success';
    return true;
  }

  /** An attempt that threw before any byte went out: a client that left ends the request. */
  private failed(target: Target, err: unknown): false {
    this.reply.endAttempt();
    if (this.reply.clientGone) throw clientClosed();
    this.note(target, classifyUpstreamError(err), describeUpstreamError(err));
    return false;
  }

  private note(target: Target, kind: Failure['kind'], detail: string): void {
    this.failures.push({ kind, detail: `${target.provider}/${target.model}: ${detail}` });
    this.log.warn('upstream_attempt_failed', {
      request_id: this.ctx.requestId,
      provider: target.provider,
      model: target.model,
      kind,
      detail,
    });
  }

  /** A complete non-streamed upstream answer: relayed byte for byte after one parse for usage. */
  private finishJson(up: Dispatcher.ResponseData, buf: Buffer, target: Target, status: number, plan: ResponsesPlan | null): void {
    const ctx = this.ctx;
    const type = up.headers['content-type'];
    if (status >= 400) {
      // The upstream refused the request itself (4xx): the client sees its answer unchanged; the
      // log keeps only the status, since an upstream message may quote the prompt.
      this.reply.sendJson(status, buf, typeof type === 'string' ? type : JSON_TYPE);
      // A provider taken to serve the Responses API that has no such route says so with a 404 or 405.
      const hint = plan && !plan.translate && (status === 404 || status === 405) ? ' on /responses (if it does not serve the Responses API, set its responses: translate)' : '';
      ctx.error = new GatewayError(status, 'upstream_error', `upstream ${target.provider} answered HTTP ${status}${hint}`);
      ctx.httpStatus = status;
      return;
    }
    const text = buf.toString('utf8');
    let parsed: { usage?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GatewayError(502, 'upstream_error', `upstream ${target.provider} answered invalid JSON (HTTP ${status})`);
    }
    let answer: string | Buffer = buf;
    if (plan) {
      if (parsed === null || typeof parsed !== 'object') throw new GatewayError(502, 'upstream_error', `upstream ${target.provider} answered a non-object`);
      const r = responsesJson(plan, parsed as Record<string, unknown>, ctx.body!, target.model);
      ctx.usage = r.usage;
      if (r.text !== null) answer = r.text;
    } else ctx.usage = readUsage(parsed?.usage);
    ctx.costUsd = costUsd(target.pricing, ctx.usage);
    if (ctx.captureResponse) ctx.capturedBody = typeof answer === 'string' ? answer : text;
    ctx.httpStatus = status;
    this.reply.tail = { status, body: answer, type: JSON_TYPE };
  }

  /**
   * Feeds upstream's bytes to a relay until the stream ends. false = it failed before any byte
   * reached the client (noted; try the next target); a failure after that is the request's 502.
   */
  private async pump(up: Dispatcher.ResponseData, target: Target, relay: StreamRelay): Promise<boolean> {
    const ctx = this.ctx;
    const reply = this.reply;
    try {
      for await (const chunk of up.body) {
        const writable = relay.feed(chunk as Buffer);
        if (ctx.ttftMs === null && relay.sawContent) ctx.ttftMs = performance.now() - ctx.startMono;
        if (!writable) await reply.drain();
        if (reply.clientGone) throw clientClosed();
      }
      relay.end();
    } catch (err) {
      reply.endAttempt();
      if (reply.clientGone) throw clientClosed();
      if (relay.bytesOut === 0) {
        this.note(target, classifyUpstreamError(err), describeUpstreamError(err));
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} broke mid-way: ${describeUpstreamError(err)}`);
    }
    reply.endAttempt();
    return true;
  }

  /** Relays one Responses stream (passed through, or translated from chat); false = nothing was sent, try the next target. */
  private async relayResponses(up: Dispatcher.ResponseData, target: Target, plan: ResponsesPlan): Promise<boolean> {
    const ctx = this.ctx;
    const reply = this.reply;
    const relay = responsesRelay(plan, reply, ctx.body!, target.model);
    reply.midStreamError = (ge) => errorFrame(ge, relay.nextSequence);
    if (!(await this.pump(up, target, relay))) return false;
    if (!relay.sawDone) {
      const why = relay.invalidEvent ? 'sent an event that is not valid JSON' : 'ended before its last event';
      if (relay.bytesOut === 0) {
        this.note(target, 'other', `stream ${why}`);
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} ${why}`);
    }
    this.outcome = 'success'; // the upstream answered whole, even if its answer is an error event
    ctx.usage = relay.usage;
    ctx.costUsd = costUsd(target.pricing, relay.usage);
    if (relay.upstreamFailure !== null) {
      // The client has upstream's own error event; the row says the answer failed.
      reply.end();
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} reported an error (${relay.upstreamFailure})`);
    }
    if (ctx.captureResponse && relay.finalResponse) ctx.capturedBody = JSON.stringify(relay.finalResponse);
    ctx.httpStatus = 200;
    reply.tail = { sse: relay.terminalFrame! };
    return true;
  }

  /** Relays one SSE answer; false = it failed before any byte reached the client (try the next target). */
  private async relayStream(up: Dispatcher.ResponseData, target: Target): Promise<boolean> {
    const ctx = this.ctx;
    const reply = this.reply;
    const relay = new SseRelay(reply, ctx.clientWantsUsage, ctx.captureResponse);
    if (!(await this.pump(up, target, relay))) return false;
    if (!relay.sawDone) {
      if (relay.bytesOut === 0) {
        this.note(target, 'other', 'stream ended before any data');
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} ended without [DONE]`);
    }
    this.outcome = 'success';
    ctx.usage = relay.usage;
    ctx.costUsd = costUsd(target.pricing, relay.usage);
    if (relay.events) ctx.capturedEvents = relay.events;
    ctx.httpStatus = 200;
    reply.tail = SSE_DONE; // the relay held back upstream's [DONE]
    return true;
  }
}

async function readAll(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}
