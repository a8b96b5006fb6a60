// One bounded GET for a scrape: a deadline for the whole exchange (a server that trickles bytes
// cannot hold a scrape longer than it), a byte cap on the body, no redirects, no keep-alive
// pool shared with the request path.
import { requestUrl } from './undici-lite.js';

export interface BoundedGet {
  status: number;
  contentType: string;
  text: string;
}

export class ScrapeError extends Error {}

export const SCRAPE_HEADER = 'x-ptui-scrape';

export async function boundedGet(
  url: string,
  opts: { timeoutMs: number; maxBytes: number; headers?: Record<string, string> },
): Promise<BoundedGet> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res;
  try {
    res = await requestUrl(url, {
      method: 'GET',
      headers: { accept: 'text/plain, application/json;q=0.9, */*;q=0.1', ...opts.headers },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      signal,
    });
  } catch (err) {
    throw new ScrapeError(describe(err, opts.timeoutMs));
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    res.body.destroy();
    throw new ScrapeError(`answer too large (${declared} bytes, limit ${opts.maxBytes})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > opts.maxBytes) {
        res.body.destroy();
        throw new ScrapeError(`answer too large (over ${opts.maxBytes} bytes)`);
      }
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (err instanceof ScrapeError) throw err;
    throw new ScrapeError(describe(err, opts.timeoutMs));
  }
  const type = res.headers['content-type'];
  return {
    status: res.statusCode,
    contentType: typeof type === 'string' ? type : '',
    text: Buffer.concat(chunks, size).toString('utf8'),
  };
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${timeoutMs} ms`;
  }
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code) return `${e.code}${e.message ? `: ${e.message.slice(0, 120)}` : ''}`;
  return (e?.message ?? String(err)).slice(0, 160);
}
