// The gateway's HTTP server (SPEC §5): node:http, no framework. Each LLM request becomes an
// Exchange that runs the callback pipeline, calls the targets in order with fallback, relays
// the answer (JSON or SSE) and fills the context's outcome before onSuccess/onError, exactly once.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from '../config/load.js';
import type { BudgetStatus, Target } from '../config/schema.js';
import type { Endpoint, ShortCircuitResponse } from './context.js';
import { costUsd, readUsage } from './cost.js';
import { GatewayError } from './errors.js';
import type { Logger } from './log.js';
import type { CallbackDeps, CallbackManager } from './pipeline.js';
import { applyBody, Context, parseJsonBody, readBody } from './request.js';
import { isLlmRoute, route, Snapshot } from './router.js';
import { eventsToJson, isUsageOnlyEvent, jsonToEvents, SseRelay } from './sse.js';
import { classifyUpstreamError, describeUpstreamError, type FailureKind, type Upstreams } from './upstream.js';

export interface BudgetSource {
  status(): BudgetStatus[];
}

export interface GatewayServerOptions {
  deps: CallbackDeps;
  manager: CallbackManager;
  budgets: BudgetSource | null;
  upstreams: Upstreams;
  log: Logger;
  version: string;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const INCLUDE_USAGE = Object.freeze({ include_usage: true });
const JSON_TYPE = 'application/json';
const SSE_DONE = 'data: [DONE]\n\n';
const PROBE_TIMEOUT_MS = 2000;

const afterIo = () => new Promise<void>((resolve) => setImmediate(resolve));

// Slow clients (slowloris) must not hold sockets: Node's defaults are 60 s for headers and 300 s
// for the whole request, checked every 30 s. Bodies are at most max_body_bytes (10 MB by default),
// which a client on any working link sends well within REQUEST_TIMEOUT_MS. Responses are not
// bounded by these (a long stream is fine once the request is in).
export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 60_000;
const CONNECTIONS_CHECK_MS = 1000;

const clientClosed = () => new GatewayError(499, 'client_closed', 'client closed the connection before the response was complete');

/** The OpenAI error body of one GatewayError: one shape for every error the gateway writes. */
const errorBody = (status: number, type: GatewayError['type'], message: string): string =>
  JSON.stringify(new GatewayError(status, type, message));

export class GatewayServer {
  readonly http: http.Server;
  private snapshot: Snapshot;
  private configError: string | null = null;
  private inflight = 0;
  private drained: (() => void) | null = null;
  private readonly started = Date.now();

  constructor(
    readonly opts: GatewayServerOptions,
    config: ResolvedConfig,
  ) {
    this.snapshot = new Snapshot(config, opts.upstreams.update(config.providers));
    this.http = http.createServer(
      {
        keepAliveTimeout: 65_000,
        noDelay: true,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      },
      this.onRequest,
    );
  }

  get current(): Snapshot {
    return this.snapshot;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** A new valid config: new requests use it, requests in flight keep theirs. */
  applyConfig(config: ResolvedConfig): void {
    this.snapshot = new Snapshot(config, this.opts.upstreams.update(config.providers));
    this.configError = null;
  }

  setConfigError(message: string | null): void {
    this.configError = message;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (at most graceMs), then drops the rest. */
  async shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    this.http.closeIdleConnections();
    await this.waitForIdle(graceMs);
    // Requests still running are cut; give them a moment to record their client_closed rows
    // before the caller closes the usage log.
    this.http.closeAllConnections();
    await this.waitForIdle(2000);
    await closed;
  }

  private waitForIdle(ms: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.drained = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
    });
  }

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const startMono = performance.now();
    const r = route(req.method, req.url);
    if (r === undefined) return this.notFound(req, res);
    if (isLlmRoute(r)) {
      void this.handleLlm(req, res, r, startMono);
      return;
    }
    const snap = this.snapshot;
    switch (r) {
      case 'health':
        return this.health(req, res);
      case 'metrics':
        void this.metrics(res);
        return;
      case 'health_targets':
        void this.healthTargets(res, snap);
        return;
      case 'models':
        if (!snap.auth(req.headers.authorization)) return this.unauthorized(res);
        return sendText(res, 200, JSON_TYPE, snap.modelsJson);
      case 'budgets':
        if (!snap.auth(req.headers.authorization)) return this.unauthorized(res);
        return sendText(res, 200, JSON_TYPE, JSON.stringify({ budgets: this.opts.budgets ? this.opts.budgets.status() : [] }));
    }
  };

  private async handleLlm(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, startMono: number) {
    const snap = this.snapshot;
    const idHeader = req.headers['x-request-id'];
    const requestId = typeof idHeader === 'string' && REQUEST_ID_RE.test(idHeader) ? idHeader : randomUUID();
    const ctx = new Context(requestId, endpoint, req.headers, snap.config, startMono);
    this.inflight++;
    try {
      await new Exchange(this.opts, snap, ctx, req, res).run();
    } catch (err) {
      this.opts.log.error('request_failed', { request_id: requestId, error: String(err) });
    } finally {
      if (--this.inflight === 0 && this.drained) this.drained();
    }
  }

  private notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = (req.url ?? '/').split('?')[0].slice(0, 200);
    sendText(res, 404, JSON_TYPE, errorBody(404, 'not_found', `no route for ${req.method} ${url}`));
  }

  private unauthorized(res: http.ServerResponse): void {
    sendText(res, 401, JSON_TYPE, errorBody(401, 'authentication_error', 'missing or invalid bearer key (Authorization: Bearer <master key>)'));
  }

  private health(req: http.IncomingMessage, res: http.ServerResponse): void {
    const usageError = this.opts.deps.usage.degradedReason;
    const body: Record<string, unknown> = {
      status: this.configError || usageError ? 'degraded' : 'ok',
      version: this.opts.version,
      uptime_s: Math.floor((Date.now() - this.started) / 1000),
    };
    if (this.configError) body.config_error = this.configError;
    if (usageError) body.usage_log_error = usageError;
    const text = JSON.stringify(body);
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end();
      return;
    }
    sendText(res, 200, JSON_TYPE, text);
  }

  private async metrics(res: http.ServerResponse): Promise<void> {
    const reg = this.opts.deps.metrics.registry;
    try {
      sendText(res, 200, reg.contentType, await reg.metrics());
    } catch (err) {
      sendText(res, 500, JSON_TYPE, errorBody(500, 'internal_error', `metrics failed: ${String(err)}`));
    }
  }

  /** Probes every provider once (health_url, else <api_base>/models) and reports per provider and per target. */
  private async healthTargets(res: http.ServerResponse, snap: Snapshot): Promise<void> {
    const providers = Object.entries(snap.config.providers);
    const results = await Promise.all(
      providers.map(async ([name, p]) => {
        const url = p.health_url ?? `${p.api_base.replace(/\/+$/, '')}/models`;
        const t0 = performance.now();
        try {
          const headers: Record<string, string> = {};
          if (!p.health_url && p.api_key) headers.authorization = `Bearer ${p.api_key}`;
          const r = await undiciRequest(url, {
            method: 'GET',
            headers,
            headersTimeout: PROBE_TIMEOUT_MS,
            bodyTimeout: PROBE_TIMEOUT_MS,
            signal: AbortSignal.timeout(PROBE_TIMEOUT_MS + 500),
          });
          await r.body.dump();
          return { provider: name, url: redactUrl(url), ok: r.statusCode < 400, status: r.statusCode, latency_ms: round(performance.now() - t0) };
        } catch (err) {
          return {
            provider: name,
            url: redactUrl(url),
            ok: false,
            status: null,
            latency_ms: round(performance.now() - t0),
            error: describeUpstreamError(err),
          };
        }
      }),
    );
    const byProvider = new Map(results.map((r) => [r.provider, r]));
    const targets: Array<Record<string, unknown>> = [];
    for (const [model, m] of Object.entries(snap.config.models)) {
      m.targets.forEach((t, i) => {
        const r = byProvider.get(t.provider);
        targets.push({ model, order: i, provider: t.provider, concrete_model: t.model, ok: r?.ok ?? false });
      });
    }
    sendText(res, 200, JSON_TYPE, JSON.stringify({ providers: results, targets }));
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

function sendText(res: http.ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface Failure {
  kind: FailureKind | 'status';
  detail: string;
}

/** One LLM request from context creation to the last callback. */
class Exchange {
  private clientGone = false;
  private abort: AbortController | null = null;
  private headSent = false;
  /** performance.now() when the current upstream attempt started (for the overhead header) */
  private attemptStart = 0;
  private failures: Failure[] | null = null;
  /**
   * The last bytes of a successful answer (the JSON body, or a stream's `[DONE]`), held back until
   * the record callbacks have run: a client that saw a complete success can rely on its usage row
   * having been written, even if the gateway is killed the next instant.
   */
  private tail: { status: number; body: string | Buffer; type: string } | typeof SSE_DONE | null = null;

  constructor(
    private readonly opts: GatewayServerOptions,
    private readonly snap: Snapshot,
    private readonly ctx: Context,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    res.once('close', this.onClose);
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    if (this.abort) this.abort.abort();
  };

  async run(): Promise<void> {
    const { ctx, snap } = this;
    try {
      if (!snap.auth(this.req.headers.authorization)) {
        throw new GatewayError(401, 'authentication_error', 'missing or invalid bearer key (Authorization: Bearer <master key>)');
      }
      applyBody(ctx, parseJsonBody(await readBody(this.req, snap.maxBodyBytes)));
      const model = snap.resolveModel(ctx.logicalModel!);
      ctx.model = model;
      ctx.capability = model.capability;
      ctx.targets = model.targets;
      await this.opts.manager.runRequest(ctx);
      if (this.clientGone) throw clientClosed();
      if (ctx.shortCircuit) this.replay(ctx.shortCircuit);
      else await this.callUpstream();
    } catch (err) {
      this.fail(err);
    }
    ctx.latencyMs = performance.now() - ctx.startMono;
    // http corks the socket until the next tick: let the response go out before the usage-log
    // insert and the other record keeping run, so the client never waits for them. A success
    // with its tail held back has nothing of weight waiting: record at once, then send the tail.
    if (this.tail === null) await afterIo();
    const failed = ctx.error !== null;
    if (failed) await this.opts.manager.runError(ctx);
    else await this.opts.manager.runSuccess(ctx);
    if (this.tail !== null) this.sendTail(this.tail);
    this.logOutcome(failed);
  }

  private logOutcome(failed: boolean): void {
    const ctx = this.ctx;
    const log = this.opts.log;
    if (!failed) {
      log.debug('request', {
        request_id: ctx.requestId,
        endpoint: ctx.endpoint,
        model: ctx.model?.name ?? null,
        provider: ctx.provider,
        http_status: ctx.httpStatus,
        latency_ms: round(ctx.latencyMs),
        attempts: ctx.attempts,
        cache_hit: ctx.cacheHit,
      });
      return;
    }
    const e = ctx.error!;
    (ctx.httpStatus >= 500 ? log.warn : log.info)('request_error', {
      request_id: ctx.requestId,
      endpoint: ctx.endpoint,
      model: ctx.model?.name ?? null,
      provider: ctx.provider,
      http_status: ctx.httpStatus,
      error_type: e.type,
      error: ctx.httpStatus >= 500 ? e.message : undefined,
      latency_ms: round(ctx.latencyMs),
      attempts: ctx.attempts,
    });
  }

  /** Records the error on the context and tells the client, however far the response got. */
  private fail(err: unknown): void {
    const ctx = this.ctx;
    let ge: GatewayError;
    // Whatever else went wrong, a client that left before the end is what the row must say.
    if (this.clientGone) ge = clientClosed();
    else if (err instanceof GatewayError) ge = err;
    else {
      this.opts.log.error('internal_error', { request_id: ctx.requestId, error: err instanceof Error ? err.stack : String(err) });
      ge = new GatewayError(500, 'internal_error', 'internal gateway error');
    }
    ctx.error = ge;
    ctx.httpStatus = ge.type === 'client_closed' ? 499 : ge.status;
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const body = JSON.stringify(ge.toJSON());
    if (!res.headersSent) {
      this.sendJson(ge.status, body);
    } else {
      // Mid-stream: the status line is gone; an SSE error event lets the client's SDK raise.
      res.end(`data: ${body}\n\n`);
    }
  }

  private overheadMs(): string {
    const now = performance.now();
    const inAttempt = this.attemptStart > 0 ? now - this.attemptStart : 0;
    return Math.max(0, now - this.ctx.startMono - this.ctx.upstreamMs - inAttempt).toFixed(3);
  }

  private headers(contentType: string, length: number): http.OutgoingHttpHeaders {
    const ctx = this.ctx;
    const h: http.OutgoingHttpHeaders = {
      'content-type': contentType,
      'x-request-id': ctx.requestId,
      'x-backend-overhead-ms': this.overheadMs(),
    };
    if (length >= 0) h['content-length'] = length;
    else h['cache-control'] = 'no-cache';
    if (ctx.provider !== null) {
      h['x-backend-provider'] = ctx.provider;
      h['x-backend-model'] = ctx.concreteModel!;
    }
    const extra = ctx.responseHeaders;
    for (const k in extra) h[k] = extra[k];
    return h;
  }

  private sendJson(status: number, body: string | Buffer, contentType = JSON_TYPE): void {
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.res.writeHead(status, this.headers(contentType, len));
    this.res.end(body);
  }

  /** ByteSink for the SSE relay: the status line goes out with the first byte, not before. */
  write(chunk: Buffer | string): boolean {
    if (!this.headSent) {
      this.headSent = true;
      this.res.writeHead(200, this.headers('text/event-stream', -1));
    }
    return this.res.write(chunk);
  }

  private drain(): Promise<void> {
    const res = this.res;
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  private sendTail(tail: NonNullable<Exchange['tail']>): void {
    this.tail = null;
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (tail === SSE_DONE) {
      this.write(SSE_DONE); // (also sends the head of a stream that had nothing before [DONE])
      res.end();
    } else this.sendJson(tail.status, tail.body, tail.type);
  }

  private replay(sc: ShortCircuitResponse): void {
    const ctx = this.ctx;
    ctx.provider = sc.provider;
    ctx.concreteModel = sc.concreteModel;
    ctx.usage = sc.usage;
    ctx.cacheHit = true;
    ctx.costUsd = 0;
    ctx.httpStatus = 200;
    if (ctx.stream) {
      const events = sc.sseEvents ?? jsonToEvents(sc.body!);
      for (const ev of events) {
        if (!ctx.clientWantsUsage && isUsageOnlyEvent(ev)) continue;
        this.write(`data: ${ev}\n\n`);
        if (ctx.ttftMs === null) ctx.ttftMs = performance.now() - ctx.startMono;
      }
      this.tail = SSE_DONE;
      return;
    }
    this.tail = { status: 200, body: sc.body ?? eventsToJson(sc.sseEvents!), type: JSON_TYPE };
  }

  private noteFailure(target: Target, kind: Failure['kind'], detail: string): void {
    (this.failures ??= []).push({ kind, detail: `${target.provider}/${target.model}: ${detail}` });
    this.opts.log.warn('upstream_attempt_failed', {
      request_id: this.ctx.requestId,
      provider: target.provider,
      model: target.model,
      kind,
      detail,
    });
  }

  private async callUpstream(): Promise<void> {
    const ctx = this.ctx;
    const body = ctx.body!;
    const logicalModel = body.model;
    const streamOptions = body.stream_options;
    // Ask upstream for usage on streams; the relay drops that chunk if the client did not ask.
    if (ctx.stream) body.stream_options = streamOptions ? { ...(streamOptions as object), include_usage: true } : INCLUDE_USAGE;
    const abort = (this.abort = new AbortController());
    try {
      for (const target of ctx.targets) {
        const client = this.snap.clients.get(target.provider);
        if (!client) continue;
        ctx.attempts++;
        ctx.provider = target.provider;
        ctx.concreteModel = target.model;
        ctx.target = target;
        body.model = target.model;
        const payload = JSON.stringify(body);
        const t0 = (this.attemptStart = performance.now());
        let up: Dispatcher.ResponseData;
        try {
          up = await client.pool.request({
            path: client.paths[ctx.endpoint],
            method: 'POST',
            headers: client.headers,
            body: payload,
            signal: abort.signal,
          });
        } catch (err) {
          this.endAttempt(t0);
          if (this.clientGone) throw clientClosed();
          this.noteFailure(target, classifyUpstreamError(err), describeUpstreamError(err));
          continue;
        }
        const status = up.statusCode;
        if (status >= 500 || status === 429) {
          await up.body.dump().catch(() => {});
          this.endAttempt(t0);
          this.noteFailure(target, 'status', `HTTP ${status}`);
          continue;
        }
        if (ctx.stream && status === 200) {
          if (await this.relayStream(up, target, t0)) return;
          continue;
        }
        let buf: Buffer;
        try {
          buf = await readAll(up.body);
        } catch (err) {
          this.endAttempt(t0);
          if (this.clientGone) throw clientClosed();
          this.noteFailure(target, classifyUpstreamError(err), describeUpstreamError(err));
          continue;
        }
        this.endAttempt(t0);
        this.finishJson(up, buf, target, status);
        return;
      }
    } finally {
      body.model = logicalModel;
      if (ctx.stream) {
        if (streamOptions === undefined) delete body.stream_options;
        else body.stream_options = streamOptions;
      }
    }
    const failures = this.failures ?? [];
    const summary = failures.map((f) => f.detail).join('; ') || 'no usable target';
    const last = failures[failures.length - 1];
    if (last?.kind === 'timeout') throw new GatewayError(504, 'upstream_timeout', `upstream timed out (${summary})`);
    throw new GatewayError(502, 'upstream_error', `all ${ctx.attempts} upstream attempt(s) failed (${summary})`);
  }

  private endAttempt(t0: number): void {
    this.ctx.upstreamMs += performance.now() - t0;
    this.attemptStart = 0;
  }

  /** A complete non-streamed upstream answer: relayed byte for byte after one parse for usage. */
  private finishJson(up: Dispatcher.ResponseData, buf: Buffer, target: Target, status: number): void {
    const ctx = this.ctx;
    const type = up.headers['content-type'];
    if (status >= 400) {
      // The upstream refused the request itself (4xx): the client sees its answer unchanged; the
      // log keeps only the status, since an upstream message may quote the prompt.
      this.sendJson(status, buf, typeof type === 'string' ? type : JSON_TYPE);
      ctx.error = new GatewayError(status, 'upstream_error', `upstream ${target.provider} answered HTTP ${status}`);
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
    ctx.usage = readUsage(parsed?.usage);
    ctx.costUsd = costUsd(target.pricing, ctx.usage);
    if (ctx.captureResponse) ctx.capturedBody = text;
    ctx.httpStatus = status;
    this.tail = { status, body: buf, type: JSON_TYPE };
  }

  /** Relays one SSE answer; false = it failed before any byte reached the client (try the next target). */
  private async relayStream(up: Dispatcher.ResponseData, target: Target, t0: number): Promise<boolean> {
    const ctx = this.ctx;
    const relay = new SseRelay(this, ctx.clientWantsUsage, ctx.captureResponse);
    try {
      for await (const chunk of up.body) {
        const writable = relay.feed(chunk as Buffer);
        if (ctx.ttftMs === null && relay.sawContent) ctx.ttftMs = performance.now() - ctx.startMono;
        if (!writable) await this.drain();
        if (this.clientGone) throw clientClosed();
      }
      relay.end();
    } catch (err) {
      this.endAttempt(t0);
      if (this.clientGone) throw clientClosed();
      if (relay.bytesOut === 0) {
        this.noteFailure(target, classifyUpstreamError(err), describeUpstreamError(err));
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} broke mid-way: ${describeUpstreamError(err)}`);
    }
    this.endAttempt(t0);
    if (!relay.sawDone) {
      if (relay.bytesOut === 0) {
        this.noteFailure(target, 'other', 'stream ended before any data');
        return false;
      }
      throw new GatewayError(502, 'upstream_error', `stream from ${target.provider} ended without [DONE]`);
    }
    ctx.usage = relay.usage;
    ctx.costUsd = costUsd(target.pricing, relay.usage);
    if (relay.events) ctx.capturedEvents = relay.events;
    ctx.httpStatus = 200;
    this.tail = SSE_DONE; // the relay held back upstream's [DONE]
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
