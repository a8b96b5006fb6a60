// The targets of one request, tried in the order routing plans (balanced or ordered, passing over
// drained, cooling and saturated providers, fallbacks after): the next one on a connect error, a
// timeout, a 5xx or a 429, but only while no byte has gone to the client. Each attempt's outcome
// feeds its provider's cool-down and in-flight count. Each attempt sends a payload built for
// its target (the concrete model, usage asked for on streams); the request's body is never
// changed. The answer that succeeds is relayed (JSON whole, SSE event by event) and its outcome
// (who answered, usage, cost, status) written on the context; when every attempt failed, the
// failure notes become one 502 or 504.
//
// Bounds and clocks of one attempt (README.md, "Reliability"): a non-streamed body, or one SSE
// event, over max_response_bytes ends the request (502, upstream closed); timeout_s is the
// deadline of a whole non-streamed answer; a stream must send its first content event within
// first_token_timeout_s and then never fall silent for idle_timeout_s (comments are not events).
// A request that ends early after reaching the upstream is charged what ptui counted: the prompt
// (estimated) and the completion tokens relayed so far.
import type { Dispatcher } from 'undici';
import type { Target } from '../../config/schema.js';
import { countedUsage } from '../budget/estimate.js';
import type { Context, TokenUsage } from '../context.js';
import { costUsd, readUsage } from '../cost.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorFrame, planResponses, responsesJson, responsesRelay, type ResponsesPlan } from '../responses/attempt.js';
import type { Routing } from '../routing/routing.js';
import type { Snapshot } from '../snapshot.js';
import type { RelayProgress } from '../relay-progress.js';
import { SseEventTooLarge, SseRelay } from '../sse.js';
import { classifyUpstreamError, describeUpstreamError, type FailureKind, type ProviderClient } from '../upstream.js';
import { AttemptClock } from './clock.js';
import { BodyTooLarge, eachChunk, readBounded, upstreamPayload } from './wire.js';
import { clientClosed, JSON_TYPE, SSE_DONE, type Reply } from './reply.js';

/** What the pump needs of a stream relay (the chat one, or a Responses one). */
type StreamRelay = RelayProgress;

interface Failure {
  kind: FailureKind | 'status';
  detail: string;
}

/** How one attempt counts for its provider's cool-down. */
type Outcome = 'success' | 'failure' | 'neutral';

export class FallbackLoop {
  private readonly failures: Failure[] = [];
  /** the current attempt's outcome for its provider, set where it is decided */
  private outcome: Outcome = 'neutral';
  private readonly clock: AttemptClock;
  /** the relay of the current streamed attempt: its count is what an early end is charged */
  private relay: StreamRelay | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly snap: Snapshot,
    private readonly reply: Reply,
    private readonly log: Logger,
    private readonly routing: Routing,
    private readonly maxResponseBytes: number,
  ) {
    this.clock = new AttemptClock(() => reply.abortAttempt());
  }

  async run(): Promise<void> {
    const ctx = this.ctx;
    let last: Target | null = null;
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
      last = target;
      // (backend_llm_requests_in_flight reads these counts when scraped)
      states.begin(target.provider);
      this.outcome = 'failure';
      let done = false;
      try {
        done = await this.attempt(client, target);
      } catch (err) {
        // This attempt ends the request (client gone, upstream broke, over a bound, timed out
        // mid-stream): it reached the upstream, so it is charged what ptui counted.
        this.chargeCounted(target);
        throw err;
      } finally {
        this.clock.stop();
        states.end(target.provider, client.provider, this.reply.clientGone ? 'neutral' : this.outcome);
      }
      if (done) return;
    }
    const summary = this.failures.map((f) => f.detail).join('; ') || 'no usable target';
    const lastFailure = this.failures[this.failures.length - 1];
    if (lastFailure?.kind === 'timeout') {
      // the last target had the prompt and ran out of time: what it read is billed
      if (last) this.chargeCounted(last);
      throw new GatewayError(504, 'upstream_timeout', `upstream timed out (${summary})`);
    }
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
    const signal = reply.startAttempt();
    const t0 = performance.now();
    this.relay = null;
    this.clock.expired = null;
    // Until the response headers, undici's own timer is the clock (it also retires the socket);
    // after them, the attempt's own clocks take the rest of the same budget.
    const headersTimeout = ctx.stream ? client.firstTokenMs : client.timeoutMs;
    let up: Dispatcher.ResponseData;
    try {
      up = await client.pool.request({
        path: client.paths[plan ? plan.path : ctx.endpoint],
        method: 'POST',
        headers: client.headers,
        body: payload,
        signal,
        headersTimeout,
      });
    } catch (err) {
      return this.failed(target, err);
    }
    this.clock.start(client, ctx.stream, t0, () => this.relay);
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
      buf = await readBounded(up, this.maxResponseBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw this.tooLarge(target, `a body larger than max_response_bytes (${this.maxResponseBytes} bytes)`);
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
    if (this.clock.expired !== null) this.note(target, 'timeout', this.clock.expired);
    else this.note(target, classifyUpstreamError(err), describeUpstreamError(err), (err as { code?: string })?.code);
    return false;
  }

  /** Over max_response_bytes: the upstream call is cut (its connection closed) and the request ends with 502. */
  private tooLarge(target: Target, what: string): GatewayError {
    this.reply.abortAttempt();
    this.reply.endAttempt();
    this.log.warn('upstream_response_too_large', { request_id: this.ctx.requestId, provider: target.provider, limit: this.maxResponseBytes });
    return new GatewayError(502, 'upstream_error', `upstream ${target.provider} sent ${what}`);
  }

  private note(target: Target, kind: Failure['kind'], detail: string, code?: string): void {
    this.failures.push({ kind, detail: `${target.provider}/${target.model}: ${detail}` });
    this.log.warn('upstream_attempt_failed', {
      request_id: this.ctx.requestId,
      provider: target.provider,
      model: target.model,
      kind,
      detail,
      code,
    });
  }

  /**
   * The usage of a request that ended early, or of a stream without a usage chunk, when the
   * provider reported none: the prompt estimated from the body, and the completion tokens relayed.
   */
  private chargeCounted(target: Target): void {
    const ctx = this.ctx;
    if (ctx.usage !== null) return;
    // (a usage chunk may have come before the stream broke)
    const reported = this.relay?.usage ?? null;
    ctx.usage = reported ?? countedUsage(ctx.body, ctx.endpoint, this.relay?.countedTokens() ?? 0);
    ctx.usageSource = reported ? 'upstream' : 'estimated';
    ctx.costUsd = costUsd(target.pricing, ctx.usage);
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
    if (ctx.usage) ctx.usageSource = 'upstream';
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
    this.relay = relay;
    // bytes since the relay last saw an event: one event may be at most max_response_bytes
    let sinceEvent = 0;
    let events = 0;
    const afterDrain = () => {
      // time spent waiting for a slow client is not upstream silence
      relay.lastDataAt = performance.now();
      if (reply.clientGone) throw clientClosed();
    };
    try {
      await eachChunk(up, (chunk) => {
        const writable = relay.feed(chunk);
        if (relay.dataEvents !== events) {
          events = relay.dataEvents;
          relay.lastDataAt = performance.now();
          sinceEvent = 0;
        } else if ((sinceEvent += chunk.length) > this.maxResponseBytes) throw new SseEventTooLarge(this.maxResponseBytes);
        if (ctx.ttftMs === null && relay.sawContent) ctx.ttftMs = performance.now() - ctx.startMono;
        if (reply.clientGone) throw clientClosed();
        if (!writable) return reply.drain().then(afterDrain);
      });
      relay.end();
    } catch (err) {
      if (err instanceof SseEventTooLarge) throw this.tooLarge(target, err.message);
      reply.endAttempt();
      if (reply.clientGone) throw clientClosed();
      if (relay.bytesOut === 0) {
        if (this.clock.expired !== null) this.note(target, 'timeout', this.clock.expired);
        else this.note(target, classifyUpstreamError(err), describeUpstreamError(err), (err as { code?: string })?.code);
        return false;
      }
      if (this.clock.expired !== null) throw new GatewayError(504, 'upstream_timeout', `stream from ${target.provider} timed out mid-way: ${this.clock.expired}`);
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
    if (relay.usage) {
      ctx.usage = relay.usage;
      ctx.usageSource = 'upstream';
      ctx.costUsd = costUsd(target.pricing, relay.usage);
    } else this.chargeCounted(target);
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
    const relay = new SseRelay(reply, ctx.clientWantsUsage, ctx.captureResponse, this.maxResponseBytes);
    if (!(await this.pump(up, target, relay))) return false;
    if (!relay.sawDone) {
      if (relay.bytesOut === 0) {
        this.note(target, 'other', 'stream ended before any data');
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} ended without [DONE]`);
    }
    this.outcome = 'success';
    if (relay.usage) {
      ctx.usage = relay.usage;
      ctx.usageSource = 'upstream';
      ctx.costUsd = costUsd(target.pricing, relay.usage);
    } else this.chargeCounted(target); // a provider that ignores include_usage is still billed
    if (relay.events) ctx.capturedEvents = relay.events;
    ctx.httpStatus = 200;
    reply.tail = SSE_DONE; // the relay held back upstream's [DONE]
    return true;
  }
}
