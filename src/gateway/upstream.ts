// Upstream connections: one undici Pool per provider with keep-alive, its timeouts, and its key as
// a precomputed Authorization header. Clients are reused across config reloads while their
// provider settings are unchanged.
import type { Pool as PoolType } from 'undici';
import { Pool } from '../engines/undici-lite.js';
import type { Provider } from '../config/schema.js';
import type { Endpoint } from './context.js';

const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
};

// A retired pool (its provider changed on reload) may still serve requests that started on
// the old config; close it only after they had time to finish.
const RETIRE_AFTER_MS = 30_000;

export class ProviderClient {
  readonly pool: PoolType;
  readonly paths: Record<Endpoint, string>;
  readonly headers: Record<string, string>;
  /** the deadline of a whole non-streamed request */
  readonly timeoutMs: number;
  /** streams: the longest wait for the first content event, and between events after it */
  readonly firstTokenMs: number;
  readonly idleMs: number;

  constructor(
    readonly name: string,
    readonly provider: Provider,
    readonly signature: string,
  ) {
    const base = new URL(provider.api_base);
    const prefix = base.pathname.replace(/\/+$/, '');
    this.paths = {
      chat: prefix + ENDPOINT_PATHS.chat,
      completions: prefix + ENDPOINT_PATHS.completions,
      embeddings: prefix + ENDPOINT_PATHS.embeddings,
      responses: prefix + ENDPOINT_PATHS.responses,
    };
    this.timeoutMs = Math.round(provider.timeout_s * 1000);
    this.firstTokenMs = Math.round((provider.first_token_timeout_s ?? provider.timeout_s) * 1000);
    this.idleMs = Math.round((provider.idle_timeout_s ?? provider.timeout_s) * 1000);
    // The gateway enforces the three itself (fallback.ts); undici's own timeouts, which only see
    // silence between bytes, stay as a backstop behind the longest of them.
    const backstopMs = Math.max(this.timeoutMs, this.firstTokenMs, this.idleMs) + 1000;
    this.headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (provider.api_key) this.headers.authorization = `Bearer ${provider.api_key}`;
    this.pool = new Pool(base.origin, {
      connections: 1024,
      pipelining: 1,
      // Below uvicorn's (vLLM) 5 s idle timeout, so we never send on a socket the server is
      // closing (a POST there fails and is not retried); undici also honours Keep-Alive hints.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: backstopMs,
      bodyTimeout: backstopMs,
      connect: { timeout: Math.min(this.timeoutMs, 10_000) },
    });
  }
}

const signatureOf = (p: Provider) =>
  JSON.stringify([p.type, p.api_base, p.api_key ?? '', p.timeout_s, p.first_token_timeout_s ?? null, p.idle_timeout_s ?? null]);

export class Upstreams {
  private clients = new Map<string, ProviderClient>();
  private readonly retiring = new Set<PoolType>();

  /** Clients for a (new) provider set; unchanged providers keep their pools and connections. */
  update(providers: Record<string, Provider>): ReadonlyMap<string, ProviderClient> {
    const next = new Map<string, ProviderClient>();
    for (const [name, p] of Object.entries(providers)) {
      const sig = signatureOf(p);
      const old = this.clients.get(name);
      next.set(name, old && old.signature === sig ? old : new ProviderClient(name, p, sig));
    }
    for (const [name, c] of this.clients) {
      if (next.get(name) !== c) this.retire(c.pool);
    }
    this.clients = next;
    return next;
  }

  private retire(pool: PoolType): void {
    this.retiring.add(pool);
    setTimeout(() => {
      this.retiring.delete(pool);
      void pool.close().catch(() => {});
    }, RETIRE_AFTER_MS).unref();
  }

  async close(): Promise<void> {
    const pools = [...this.retiring, ...[...this.clients.values()].map((c) => c.pool)];
    this.retiring.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy().catch(() => {}))));
  }
}

export type FailureKind = 'connect' | 'timeout' | 'aborted' | 'other';

/** What an undici error means for fallback and for the client's status. */
export function classifyUpstreamError(err: unknown): FailureKind {
  const e = err as { code?: string; name?: string };
  switch (e?.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return 'connect';
  }
  if (e?.name === 'AbortError') return 'aborted';
  return 'other';
}

// undici's own error codes are its internals: a client (and the usage log) reads what happened.
const UNDICI_WORDS: Record<string, string> = {
  UND_ERR_SOCKET: 'connection closed by the upstream',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_DESTROYED: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'no response data in time',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_ABORTED: 'aborted',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response shorter or longer than its content-length',
};

/** What went wrong with an upstream call, in words (system codes such as ECONNREFUSED kept, undici's never). */
export function describeUpstreamError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  const code = e?.code;
  if (!code) return msg;
  if (code.startsWith('UND_ERR')) return `${UNDICI_WORDS[code] ?? 'upstream connection failed'}${msg ? ` (${msg})` : ''}`.replace(/UND_ERR_[A-Z_]+:?\s*/g, '');
  return msg.includes(code) ? msg : `${code}: ${msg}`;
}
