// One LLM request from its context to the last callback, as a short list of stages:
//   1. authorize         the bearer key (master or virtual), never one in the URL
//   2. accept the body   read under max_body_bytes, parse, check fields, resolve the model
//   3. onRequest         the callbacks, which may rewrite, reject or short-circuit
//   4. answer            a cache hit replayed, or the targets tried (fallback loop)
//   5. record            onSuccess/onError (usage row, metrics), then the held-back tail
// Whatever throws in 1-4 becomes the context's error and the client's answer (however far the
// response got); stage 5 always runs, so every request has its row.
import type http from 'node:http';
import { acceptBody, parseJsonText, readBody } from '../body.js';
import type { Context, ShortCircuitResponse } from '../context.js';
import { checkModelAllowed, refuseKeyInUrl, type KeyLookup } from '../auth.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallbackManager } from '../pipeline.js';
import type { Snapshot } from '../snapshot.js';
import { eventsToJson, isUsageOnlyEvent, jsonToEvents } from '../sse.js';
import { responseAsStream } from '../responses/replay.js';
import type { Routing } from '../routing/routing.js';
import { FallbackLoop } from './fallback.js';
import { clientClosed, JSON_TYPE, Reply, SSE_DONE } from './reply.js';

const afterIo = () => new Promise<void>((resolve) => setImmediate(resolve));

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export class Exchange {
  private readonly reply: Reply;

  constructor(
    private readonly manager: CallbackManager,
    private readonly log: Logger,
    private readonly snap: Snapshot,
    private readonly keys: KeyLookup,
    private readonly ctx: Context,
    private readonly req: http.IncomingMessage,
    res: http.ServerResponse,
    private readonly routing: Routing,
  ) {
    this.reply = new Reply(ctx, res);
  }

  async run(): Promise<void> {
    const { ctx, snap } = this;
    try {
      refuseKeyInUrl(this.req.url);
      const who = snap.authenticator.identify(this.req.headers.authorization, this.keys, ctx.startedAt);
      if (who.kind === 'key') ctx.apiKey = who.key;
      const { body, source } = parseJsonText(await readBody(this.req, snap.maxBodyBytes));
      if (ctx.apiKey) {
        // the row names the model a key was refused (client text: the usage log sanitises it)
        if (typeof body.model === 'string') ctx.logicalModel = body.model;
        checkModelAllowed(ctx.apiKey, body.model);
      }
      acceptBody(ctx, body, source);
      const pending = this.manager.runRequest(ctx);
      if (pending) await pending;
      if (this.reply.clientGone) throw clientClosed();
      if (ctx.shortCircuit) this.replay(ctx.shortCircuit);
      else await new FallbackLoop(ctx, snap, this.reply, this.log, this.routing, snap.maxResponseBytes).run();
    } catch (err) {
      this.fail(err);
    }
    await this.record();
  }

  private async record(): Promise<void> {
    const ctx = this.ctx;
    ctx.latencyMs = performance.now() - ctx.startMono;
    // http corks the socket until the next tick: let the response go out before the usage-log
    // insert and the other record keeping run, so the client never waits for them. A success
    // with its tail held back has nothing of weight waiting: record at once, then send the tail.
    if (this.reply.tail === null) await afterIo();
    const failed = ctx.error !== null;
    if (failed) await this.manager.runError(ctx);
    else await this.manager.runSuccess(ctx, this.sendTail);
    this.reply.sendTail();
    this.logOutcome(failed);
  }

  /** The held-back end of a success, sent once its usage row is committed (see Callback.holdsAnswer). */
  private readonly sendTail = (): void => this.reply.sendTail();

  private logOutcome(failed: boolean): void {
    const ctx = this.ctx;
    const log = this.log;
    // a success is a debug line: most gateways run at info, and its fields would be built for nothing
    if (!failed && !log.debugEnabled) return;
    const fields = {
      request_id: ctx.requestId,
      endpoint: ctx.endpoint,
      model: ctx.model?.name ?? null,
      provider: ctx.answeredBy?.provider ?? null,
      http_status: ctx.httpStatus,
    };
    if (!failed) {
      log.debug('request', { ...fields, latency_ms: round(ctx.latencyMs), attempts: ctx.attempts, cache_hit: ctx.cacheHit });
      return;
    }
    const e = ctx.error!;
    (ctx.httpStatus >= 500 ? log.warn : log.info)('request_error', {
      ...fields,
      error_type: e.code,
      error: ctx.httpStatus >= 500 ? e.message : undefined,
      latency_ms: round(ctx.latencyMs),
      attempts: ctx.attempts,
    });
  }

  /** Records the error on the context and tells the client. */
  private fail(err: unknown): void {
    const ctx = this.ctx;
    let ge: GatewayError;
    // Whatever else went wrong, a client that left before the end is what the row must say.
    if (this.reply.clientGone) ge = clientClosed();
    else if (err instanceof GatewayError) ge = err;
    else {
      this.log.error('internal_error', { request_id: ctx.requestId, error: err instanceof Error ? err.stack : String(err) });
      ge = new GatewayError(500, 'internal_error', 'internal gateway error');
    }
    ctx.error = ge;
    ctx.httpStatus = ge.code === 'client_closed' ? 499 : ge.status;
    this.reply.sendError(ge);
  }

  /** A callback's answer (cache hit) sent as the client asked for it: JSON, or SSE events. */
  private replay(sc: ShortCircuitResponse): void {
    const ctx = this.ctx;
    ctx.answeredFromShortCircuit(sc);
    if (ctx.stream && ctx.endpoint === 'responses') {
      const { frames, terminal } = responseAsStream(sc.body!);
      this.reply.write(frames);
      ctx.ttftMs = performance.now() - ctx.startMono;
      this.reply.tail = { sse: terminal };
      return;
    }
    if (ctx.stream) {
      const events = sc.sseEvents ?? jsonToEvents(sc.body!);
      for (const ev of events) {
        if (!ctx.clientWantsUsage && isUsageOnlyEvent(ev)) continue;
        this.reply.write(`data: ${ev}\n\n`);
        if (ctx.ttftMs === null) ctx.ttftMs = performance.now() - ctx.startMono;
      }
      this.reply.tail = SSE_DONE;
      return;
    }
    this.reply.tail = { status: 200, body: sc.body ?? eventsToJson(sc.sseEvents!), type: JSON_TYPE };
  }
}
