// The response cache around the upstream call (README, "Cache"). onRequest looks the request up
// and, on a hit, answers through ctx.shortCircuit (the server then makes no upstream call and
// records the hit: cache_hit=1, cost 0); on a miss it asks the server to capture the response, which
// onSuccess stores without holding up the client (the response has already gone out).
// Cache-Control: no-cache skips the lookup, no-store the write. A request that still carries a
// secret (guardrails in warn mode) is never stored: its answer may echo the secret; nor is an
// answer that holds one.
import type { ResolvedConfig } from '../../config/load.js';
import type { Context } from '../context.js';
import { Callback, type CallbackDeps } from '../pipeline.js';
import { cacheKey } from '../cache/key.js';
import { CACHE_FORMAT_VERSION, type CacheEntry } from '../cache/entry.js';
import { assembleStream, streamFromBody } from '../cache/sse.js';
import { CacheStore } from '../cache/store.js';
import { responseHoldsSecret } from '../../security/request.js';

interface CacheState {
  key: string;
  store: CacheStore;
}

interface StoreSettings {
  dir: string;
  ttlMs: number;
  maxBytes: number;
}

/** `no-cache` / `no-store` directives of a Cache-Control request header. */
export function parseCacheControl(header: string | string[] | undefined): { noCache: boolean; noStore: boolean } {
  if (!header) return { noCache: false, noStore: false };
  const v = (Array.isArray(header) ? header.join(',') : header).toLowerCase();
  let noCache = false;
  let noStore = false;
  for (const d of v.split(',')) {
    const t = d.trim();
    if (t === 'no-cache') noCache = true;
    else if (t === 'no-store') noStore = true;
  }
  return { noCache, noStore };
}

export class CacheCallback extends Callback {
  readonly name = 'cache';
  private store: CacheStore | null = null;
  private settings: StoreSettings | null = null;

  constructor(deps: CallbackDeps) {
    super(deps);
    this.apply(deps.getConfig());
  }

  override onConfig(config: ResolvedConfig): void {
    this.apply(config);
  }

  private apply(config: ResolvedConfig): void {
    const c = config.gateway.cache;
    if (!c.enabled) {
      this.store = null;
      this.settings = null;
      return;
    }
    const next: StoreSettings = { dir: config.paths.cacheDir, ttlMs: c.ttl_s * 1000, maxBytes: c.max_bytes };
    const same =
      this.settings && this.settings.dir === next.dir && this.settings.ttlMs === next.ttlMs && this.settings.maxBytes === next.maxBytes;
    if (same && this.store) return;
    this.settings = next;
    this.store = CacheStore.open({ ...next, log: this.deps.log });
    if (this.store) this.deps.log.info('cache_enabled', { dir: next.dir, entries: this.store.entries, bytes: this.store.bytes });
  }

  // Synchronous unless there is an entry to read: a miss costs no extra turn of the event loop.
  override onRequest(ctx: Context): void | Promise<void> {
    const store = this.store;
    if (!store || !ctx.body || !ctx.logicalModel) return;
    const { noCache, noStore } = parseCacheControl(ctx.headers['cache-control']);
    const key = cacheKey(ctx.endpoint, ctx.logicalModel, ctx.body);
    ctx.state[this.name] = { key, store } satisfies CacheState;
    if (noCache || !store.has(key)) return this.miss(ctx, noStore);
    return this.lookup(ctx, store, key, noStore);
  }

  private async lookup(ctx: Context, store: CacheStore, key: string, noStore: boolean): Promise<void> {
    const { entry } = await store.get(key, Date.now());
    if (entry && entry.endpoint === ctx.endpoint) {
      // A stored Response is replayed as a stream by the server itself (its own event sequence).
      const sseEvents = ctx.stream && ctx.endpoint !== 'responses' ? streamFromBody(entry.body, ctx.endpoint, ctx.clientWantsUsage) : null;
      if (!ctx.stream || sseEvents || ctx.endpoint === 'responses') {
        ctx.shortCircuit = {
          ...(sseEvents ? { sseEvents } : { body: entry.body }),
          answeredBy: { provider: entry.provider, model: entry.concrete_model },
          usage: entry.usage,
        };
        ctx.responseHeaders['x-backend-cache'] = 'hit';
        this.deps.metrics.cacheRequests.inc({ result: 'hit' });
        return;
      }
    }
    this.miss(ctx, noStore);
  }

  private miss(ctx: Context, noStore: boolean): void {
    ctx.responseHeaders['x-backend-cache'] = 'miss';
    this.deps.metrics.cacheRequests.inc({ result: 'miss' });
    if (!noStore) ctx.captureResponse = true;
  }

  override onSuccess(ctx: Context): void {
    const st = ctx.state[this.name] as CacheState | undefined;
    const by = ctx.answeredBy;
    if (!st || ctx.cacheHit || !ctx.captureResponse || ctx.forwardsSecret) return;
    if (ctx.httpStatus >= 300 || !by) return;
    const body = ctx.capturedBody ?? (ctx.capturedEvents ? assembleStream(ctx.capturedEvents, ctx.endpoint) : null);
    if (!body) return;
    // An answer can carry a secret the request did not (an upstream that knows one): never on disk.
    if (responseHoldsSecret(body)) {
      this.deps.log.warn('cache_skipped_secret', { request_id: ctx.requestId, note: 'the response holds what looks like a secret: not cached' });
      return;
    }
    const entry: CacheEntry = {
      v: CACHE_FORMAT_VERSION,
      key: st.key,
      created_ms: Date.now(),
      endpoint: ctx.endpoint,
      provider: by.provider,
      concrete_model: by.model,
      usage: ctx.usage,
      body,
    };
    // Not awaited: the client already has its answer; put() logs its own failures.
    void st.store.put(entry);
  }
}
