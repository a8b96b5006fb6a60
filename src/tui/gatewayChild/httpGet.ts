// GET (or POST) a small JSON (or text) document from the local gateway. The dashboard asks every
// second or two (health, budgets, engines); node:http on a keep-alive agent costs a fraction of
// fetch per call.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

export interface JsonResponse {
  status: number;
  /** parsed JSON, or undefined when the body was not JSON */
  body: unknown;
  /** the body as text (at most 1 MiB) */
  text: string;
  headers: http.IncomingHttpHeaders;
}

export class HttpGetError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'HttpGetError';
  }
}

const MAX_BODY = 1 << 20;

export interface RequestOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
}

export function getJson(url: string, opts: RequestOptions): Promise<JsonResponse> {
  return requestJson('GET', url, opts);
}

/** A POST without a body (the operator's actions: drain, undrain). */
export function postJson(url: string, opts: RequestOptions): Promise<JsonResponse> {
  return requestJson('POST', url, opts);
}

function requestJson(method: 'GET' | 'POST', url: string, opts: RequestOptions): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const headers = method === 'POST' ? { 'content-length': '0', ...opts.headers } : opts.headers;
    const req = http.request(url, { method, agent, headers, timeout: opts.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new HttpGetError('response too large', 'E2BIG'));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers });
      });
      res.on('error', (e) => reject(new HttpGetError(e.message, (e as NodeJS.ErrnoException).code)));
    });
    // `timeout` fires on socket inactivity: a port that accepts and never answers
    req.on('timeout', () => req.destroy(new HttpGetError('timed out', 'ETIMEDOUT')));
    req.on('error', (e) => reject(e instanceof HttpGetError ? e : new HttpGetError(e.message, (e as NodeJS.ErrnoException).code)));
    req.end();
  });
}
