// What goes back to the client of one LLM request: the headers (request id, who answered, the
// gateway's overhead), a JSON body or an SSE byte stream, and the held-back tail. It also owns
// the client's side of the connection: when the client leaves, `clientGone` is set and the
// upstream call is aborted through `signal`.
import type http from 'node:http';
import type { Context } from '../context.js';
import { GatewayError } from '../errors.js';
import type { ByteSink } from '../relay-progress.js';
import { AttemptSignal } from './attempt-signal.js';

export const JSON_TYPE = 'application/json';
export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * The end of a successful answer, sent only after the record callbacks have run: a JSON body,
 * a chat stream's [DONE], or another stream's last frame (a Responses stream's response.completed).
 */
export type Tail = { status: number; body: string | Buffer; type: string } | typeof SSE_DONE | { sse: string };

export const clientClosed = () =>
  new GatewayError(499, 'client_closed', 'client closed the connection before the response was complete');

export function sendText(res: http.ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class Reply implements ByteSink {
  clientGone = false;
  /** the current upstream attempt's abort: the client leaving aborts it, and so may its timeouts */
  private attempt: AttemptSignal | null = null;
  private headSent = false;
  /** performance.now() when the current upstream attempt started (0 between attempts) */
  private attemptStart = 0;
  /**
   * The last bytes of a successful answer (the JSON body, or a stream's `[DONE]`), held back until
   * the record callbacks have run: a client that saw a complete success can rely on its usage row
   * having been written, even if the gateway is killed the next instant.
   */
  tail: Tail | null = null;
  /**
   * How an error is told mid-stream: by default a `data:` event with the error body; a Responses
   * stream sets its own (an `error` event with the next sequence number).
   */
  midStreamError: ((ge: GatewayError) => string) | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly res: http.ServerResponse,
  ) {
    res.once('close', this.onClose);
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.attempt?.abort();
  };

  /**
   * A new upstream attempt starts: its time is not the gateway's overhead, and it gets its own
   * abort signal (aborted when the client leaves, or by abortAttempt).
   */
  startAttempt(): AttemptSignal {
    this.attemptStart = performance.now();
    this.attempt = new AttemptSignal();
    if (this.clientGone) this.attempt.abort();
    return this.attempt;
  }

  /** Ends the current upstream call now (a timeout, an answer over its bound): its connection is closed. */
  abortAttempt(): void {
    this.attempt?.abort();
  }

  endAttempt(): void {
    if (this.attemptStart === 0) return;
    this.ctx.upstreamMs += performance.now() - this.attemptStart;
    this.attemptStart = 0;
  }

  private overheadMs(): string {
    const now = performance.now();
    const inAttempt = this.attemptStart > 0 ? now - this.attemptStart : 0;
    return Math.max(0, now - this.ctx.startMono - this.ctx.upstreamMs - inAttempt).toFixed(3);
  }

  private headers(contentType: string, length: number, errorHeaders: Readonly<Record<string, string>> | null = null): http.OutgoingHttpHeaders {
    const ctx = this.ctx;
    const h: http.OutgoingHttpHeaders = {
      'content-type': contentType,
      'x-request-id': ctx.requestId,
      'x-backend-overhead-ms': this.overheadMs(),
    };
    if (length >= 0) h['content-length'] = length;
    else h['cache-control'] = 'no-cache';
    const by = ctx.answeredBy;
    if (by !== null) {
      h['x-backend-provider'] = by.provider;
      h['x-backend-model'] = by.model;
    }
    const extra = ctx.responseHeaders;
    for (const k in extra) h[k] = extra[k];
    if (errorHeaders !== null) for (const k in errorHeaders) h[k] = errorHeaders[k];
    return h;
  }

  sendJson(status: number, body: string | Buffer, contentType = JSON_TYPE, errorHeaders: GatewayError['headers'] = null): void {
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.res.writeHead(status, this.headers(contentType, len, errorHeaders));
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

  /** Resolves when a slow client has taken what was written, or has gone. */
  drain(): Promise<void> {
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

  sendTail(): void {
    const tail = this.tail;
    this.tail = null;
    const res = this.res;
    if (tail === null || res.destroyed || res.writableEnded) return;
    if (tail === SSE_DONE || 'sse' in tail) {
      this.write(tail === SSE_DONE ? SSE_DONE : tail.sse); // (also sends the head of a stream that had nothing before it)
      res.end();
    } else this.sendJson(tail.status, tail.body, tail.type);
  }

  /** Tells the client about an error however far the response got. */
  sendError(ge: GatewayError): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const body = JSON.stringify(ge.toJSON());
    if (!res.headersSent) this.sendJson(ge.status, body, JSON_TYPE, ge.headers);
    // Mid-stream: the status line is gone; an SSE error event lets the client's SDK raise.
    else res.end(this.midStreamError ? this.midStreamError(ge) : `data: ${body}\n\n`);
  }

  /** Ends a stream that has already said how it ended (an upstream error event passed on). */
  end(): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end();
  }
}
