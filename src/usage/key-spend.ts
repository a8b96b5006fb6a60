// Spend and last use per virtual key, read from the usage log's key_alias column (the log is
// the truth for spend, keys included). Every query goes through the (key_alias, timestamp,
// cost_usd) index, so its cost follows one key's rows in the window, not the log's size.
import type { Db } from './db.js';

export interface KeySpendBucket {
  alias: string;
  /** bucket start, epoch ms */
  bucket_ms: number;
  width_ms: number;
  cost_usd: number;
}

const BUCKETS_SQL = `
  SELECT CAST((julianday(timestamp) - 2440587.5) * 86400000.0 / @granularity AS INTEGER) * @granularity AS bucket_ms,
         SUM(cost_usd) AS cost_usd
  FROM llm_usage
  WHERE key_alias = @alias AND timestamp >= @since AND cost_usd > 0
  GROUP BY bucket_ms`;

/** Spend of one key since `sinceMs` in buckets of `granularityMs`: what the gateway seeds a key budget from. */
export function readKeySpendBuckets(db: Db, alias: string, sinceMs: number, granularityMs: number): KeySpendBucket[] {
  const granularity = Math.max(1, Math.floor(granularityMs));
  const rows = db.prepare(BUCKETS_SQL).all({ alias, since: new Date(sinceMs).toISOString(), granularity }) as Array<{ bucket_ms: number; cost_usd: number }>;
  return rows.map((r) => ({ alias, bucket_ms: r.bucket_ms, width_ms: granularity, cost_usd: r.cost_usd }));
}

/** Positive spend of one key over (nowMs - windowMs, nowMs]. */
export function keySpend(db: Db, alias: string, windowMs: number, nowMs: number): number {
  const r = db
    .prepare('SELECT SUM(cost_usd) AS s FROM llm_usage WHERE key_alias = ? AND timestamp > ? AND timestamp <= ? AND cost_usd > 0')
    .get(alias, new Date(nowMs - windowMs).toISOString(), new Date(nowMs).toISOString()) as { s: number | null };
  return r.s ?? 0;
}

/** Start time (epoch ms) of the key's newest request in the log, or null. */
export function keyLastUsed(db: Db, alias: string): number | null {
  const r = db.prepare('SELECT MAX(timestamp) AS t FROM llm_usage WHERE key_alias = ?').get(alias) as { t: string | null };
  return r.t === null ? null : Date.parse(r.t);
}
