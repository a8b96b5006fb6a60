// Raw-socket HTTP for hostile-input tests: send exact bytes (malformed framing, huge
// headers, smuggling attempts, HTTP/1.0), read whatever comes back until the server closes or a
// quiet period passes, and parse the response(s) without a forgiving client in the way.
import net from 'node:net';

export interface RawResponse {
  version: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** every byte of the body is there (false: cut off, or framed only by the connection's close) */
  complete: boolean;
}

export interface RawResult {
  /** every byte the server sent */
  raw: Buffer;
  responses: RawResponse[];
  /** the server closed the connection (FIN or RST) before we gave up waiting */
  closedByServer: boolean;
  /** ms from connect until the server closed (null if it did not) */
  closedAfterMs: number | null;
  error?: string;
}

export interface RawOptions {
  /** give up when nothing has arrived for this long (default 3000 ms) */
  idleMs?: number;
  /** hard limit for the whole exchange (default 20 s) */
  maxMs?: number;
  /** half-close our side after sending (default false: keep it open like a real client) */
  end?: boolean;
  /** stop as soon as this many complete responses arrived (default 1; 0 = wait for close or idle) */
  responses?: number;
}

/** Sends `parts` in order (a number is a pause in ms between them) and collects the answer. */
export function rawExchange(port: number, parts: Array<string | Buffer | number>, o: RawOptions = {}): Promise<RawResult> {
  const idleMs = o.idleMs ?? 3000;
  const maxMs = o.maxMs ?? 20_000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const t0 = Date.now();
    let settled = false;
    let closedAfterMs: number | null = null;
    let error: string | undefined;
    const sock = net.connect(port, '127.0.0.1');
    let idle: NodeJS.Timeout;
    const hard = setTimeout(() => finish(false), maxMs);
    const bump = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), idleMs);
    };
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(hard);
      if (closed) closedAfterMs = Date.now() - t0;
      sock.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ raw, responses: parseResponses(raw), closedByServer: closed, closedAfterMs, error });
    };
    const want = o.responses ?? 1;
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      bump();
      if (want > 0) {
        const got = parseResponses(Buffer.concat(chunks));
        if (got.length >= want && got.slice(0, want).every((r) => r.complete)) finish(false);
      }
    });
    sock.on('error', (e) => {
      error = (e as NodeJS.ErrnoException).code ?? e.message;
    });
    sock.on('close', () => finish(true));
    sock.on('connect', async () => {
      for (const p of parts) {
        if (settled || sock.destroyed) return;
        if (typeof p === 'number') {
          await new Promise((r) => setTimeout(r, p));
          continue;
        }
        sock.write(p);
        bump();
      }
      if (o.end) sock.end();
      bump();
    });
  });
}

/** Parses consecutive HTTP/1.x responses (Content-Length, chunked, or to the end). */
export function parseResponses(raw: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', pos);
    if (headEnd === -1) break;
    const head = raw.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let p = headEnd + 4;
    let body: Buffer;
    let complete = true;
    const status = Number(m[2]);
    if (status === 100 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', p);
        if (lineEnd === -1) {
          p = raw.length;
          complete = false;
          break;
        }
        const size = parseInt(raw.subarray(p, lineEnd).toString('latin1'), 16);
        p = lineEnd + 2;
        if (!Number.isFinite(size) || size === 0) {
          p = Math.min(raw.length, p + 2);
          break;
        }
        if (p + size > raw.length) complete = false;
        parts.push(raw.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = raw.subarray(p, p + n);
      complete = body.length === n;
      p += n;
    } else {
      body = raw.subarray(p);
      p = raw.length;
      complete = false; // framed by the close: only the caller knows whether it came
    }
    out.push({ version: m[1], status, headers, body, complete });
    pos = p;
  }
  return out;
}

/** The OpenAI error object of a response body, or null when the body is not one. */
export function openAiError(body: Buffer | string): { message: string; type: string; code: unknown; param: unknown } | null {
  try {
    const e = JSON.parse(body.toString())?.error;
    if (e && typeof e.message === 'string' && typeof e.type === 'string' && 'code' in e && 'param' in e) return e;
  } catch {
    // not JSON
  }
  return null;
}

/** A POST request as raw bytes with a correct Content-Length. */
export function rawPost(path: string, body: string | Buffer, headers: Record<string, string> = {}, version = '1.1'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(b.length), ...headers };
  const head = `POST ${path} HTTP/${version}\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}
