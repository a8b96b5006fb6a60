// Read-only queries for the dashboard (README, "The dashboard"). Each refresh costs the same at 10 M rows as
// at 10: the tail reads by id (the rowid B-tree), recent stats read a short time range through
// idx_llm_usage_ts, and per-minute / per-model figures read the per-minute rollup that triggers
// keep (llm_usage_minute), never the request rows.
import type Database from 'better-sqlite3';
import { openReaderDb, type Db } from './db.js';
import type { StoredUsageRow } from './schema.js';
import type { BudgetScope } from '../config/schema.js';

export interface TrafficStats {
  requests: number;
  errors: number;
  /** requests per second over the window */
  rps: number;
  /** null when the window holds no request */
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface MinuteStats {
  /** minute start, epoch ms (UTC) */
  minute: number;
  requests: number;
  errors: number;
  costUsd: number;
}

export interface ModelStats {
  /** null for requests that named no model (bad JSON, missing field) */
  logical_model: string | null;
  requests: number;
  costUsd: number;
  tokens: number;
}

export interface UsageReaderOptions {
  /** how long a query waits on a lock; keep it short on a UI thread */
  busyTimeoutMs?: number;
  /** percentiles use at most this many of the newest rows in the window */
  maxLatencySamples?: number;
}

export const DEFAULT_MAX_LATENCY_SAMPLES = 10_000;
const MINUTE_MS = 60_000;

/** 'YYYY-MM-DDTHH:MM', the rollup's key for the minute holding `ms`. */
export function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

function minuteMs(key: string): number {
  return Date.parse(key + ':00.000Z');
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Every query the reader runs; exported so a test can check each one's plan. */
export const READER_SQL = {
  maxId: 'SELECT max(id) FROM llm_usage',
  rowsAfter: 'SELECT * FROM llm_usage WHERE id > ? ORDER BY id LIMIT ?',
  latest: 'SELECT * FROM llm_usage ORDER BY id DESC LIMIT ?',
  count: `SELECT count(*) AS requests, coalesce(sum(status = 'error'), 0) AS errors FROM llm_usage WHERE timestamp >= ?`,
  latencies: 'SELECT latency_ms FROM llm_usage WHERE timestamp >= ? ORDER BY timestamp DESC LIMIT ?',
  perMinute: `SELECT minute, sum(requests) AS requests, sum(errors) AS errors, sum(cost_usd) AS costUsd
              FROM llm_usage_minute WHERE minute >= ? GROUP BY minute ORDER BY minute`,
  perModel: `SELECT logical_model, sum(requests) AS requests, sum(cost_usd) AS costUsd, sum(total_tokens) AS tokens
             FROM llm_usage_minute WHERE minute >= ? GROUP BY logical_model ORDER BY requests DESC, logical_model`,
  // one budget scope's target per minute: the rollup holds provider, model and capability; keys
  // are read through their own index (the minute key compares below every timestamp in it)
  perMinuteProvider: `SELECT minute, sum(requests) AS requests, sum(errors) AS errors, sum(cost_usd) AS costUsd FROM llm_usage_minute WHERE minute >= ? AND provider = ? GROUP BY minute ORDER BY minute`,
  perMinuteModel: `SELECT minute, sum(requests) AS requests, sum(errors) AS errors, sum(cost_usd) AS costUsd FROM llm_usage_minute WHERE minute >= ? AND logical_model = ? GROUP BY minute ORDER BY minute`,
  perMinuteCapability: `SELECT minute, sum(requests) AS requests, sum(errors) AS errors, sum(cost_usd) AS costUsd FROM llm_usage_minute WHERE minute >= ? AND capability = ? GROUP BY minute ORDER BY minute`,
  perMinuteKey: `SELECT substr(timestamp, 1, 16) AS minute, count(*) AS requests, coalesce(sum(status = 'error'), 0) AS errors,
                 coalesce(sum(cost_usd), 0) AS costUsd FROM llm_usage WHERE timestamp >= ? AND key_alias = ? GROUP BY 1 ORDER BY 1`,
} as const;

export class UsageReader {
  private readonly qMaxId: Database.Statement;
  private readonly qAfter: Database.Statement;
  private readonly qLatest: Database.Statement;
  private readonly qCount: Database.Statement;
  private readonly qLatencies: Database.Statement;
  private readonly qPerMinute: Database.Statement;
  private readonly qPerModel: Database.Statement;
  private readonly qPerMinuteOf: Record<BudgetScope, Database.Statement>;
  private readonly maxSamples: number;

  private constructor(
    readonly db: Db,
    opts: UsageReaderOptions,
  ) {
    this.maxSamples = opts.maxLatencySamples ?? DEFAULT_MAX_LATENCY_SAMPLES;
    this.qMaxId = db.prepare(READER_SQL.maxId).pluck();
    this.qAfter = db.prepare(READER_SQL.rowsAfter);
    this.qLatest = db.prepare(READER_SQL.latest);
    this.qCount = db.prepare(READER_SQL.count);
    this.qLatencies = db.prepare(READER_SQL.latencies).pluck();
    this.qPerMinute = db.prepare(READER_SQL.perMinute);
    this.qPerModel = db.prepare(READER_SQL.perModel);
    this.qPerMinuteOf = {
      provider: db.prepare(READER_SQL.perMinuteProvider),
      model: db.prepare(READER_SQL.perMinuteModel),
      capability: db.prepare(READER_SQL.perMinuteCapability),
      key: db.prepare(READER_SQL.perMinuteKey),
    };
  }

  /**
   * Opens read-only. Throws UsageDbMissingError when the file is not there yet (retry later),
   * UsageSchemaTooNewError for a newer ptui's file, and a plain Error naming the file otherwise
   * (not initialised yet, an older schema the gateway has not migrated, locked, unreadable).
   */
  static open(dbPath: string, opts: UsageReaderOptions = {}): UsageReader {
    const db = openReaderDb(dbPath, opts.busyTimeoutMs);
    try {
      return new UsageReader(db, opts);
    } catch (e) {
      db.close();
      // a v1 file has no rollup table: the gateway migrates it on its next start
      throw new Error(`cannot read usage log ${dbPath}: ${(e as Error).message} (start the gateway once to migrate it)`, {
        cause: e,
      });
    }
  }

  /** Highest row id, 0 for an empty log: the cheap "anything new?" probe. */
  maxId(): number {
    return (this.qMaxId.get() as number | null) ?? 0;
  }

  /** Rows with id > `id`, oldest first, at most `limit`. */
  rowsAfter(id: number, limit: number): StoredUsageRow[] {
    return this.qAfter.all(id, limit) as StoredUsageRow[];
  }

  /** The newest `limit` rows, newest first. */
  latest(limit: number): StoredUsageRow[] {
    return this.qLatest.all(limit) as StoredUsageRow[];
  }

  /**
   * Requests that started at or after `sinceMs` (epoch ms). Counts are exact; percentiles come
   * from the newest `maxLatencySamples` rows of the window, so a flood costs a bounded sort.
   */
  stats(sinceMs: number, nowMs: number = Date.now()): TrafficStats {
    const since = new Date(sinceMs).toISOString();
    const c = this.countSince(since, sinceMs, nowMs);
    let p50: number | null = null;
    let p95: number | null = null;
    if (c.requests > 0) {
      const lat = Float64Array.from(this.qLatencies.all(since, this.maxSamples) as number[]);
      lat.sort();
      p50 = percentile(lat, 50);
      p95 = percentile(lat, 95);
    }
    return { ...c, p50LatencyMs: p50, p95LatencyMs: p95 };
  }

  /** The counts of `stats` without the percentiles (no latency read and sort): for a rate alone. */
  count(sinceMs: number, nowMs: number = Date.now()): Pick<TrafficStats, 'requests' | 'errors' | 'rps'> {
    return this.countSince(new Date(sinceMs).toISOString(), sinceMs, nowMs);
  }

  private countSince(since: string, sinceMs: number, nowMs: number): Pick<TrafficStats, 'requests' | 'errors' | 'rps'> {
    const c = this.qCount.get(since) as { requests: number; errors: number };
    return { requests: c.requests, errors: c.errors, rps: c.requests / Math.max(1, (nowMs - sinceMs) / 1000) };
  }

  /**
   * One entry per minute from the minute holding `sinceMs` to the one holding `nowMs`, oldest
   * first, minutes without traffic as zeros (ready for a sparkline).
   */
  perMinute(sinceMs: number, nowMs: number = Date.now()): MinuteStats[] {
    return this.fillMinutes(sinceMs, nowMs, (first) => this.qPerMinute.all(first));
  }

  /** perMinute for one budget scope's target: a provider, a logical model, a capability or a key alias. */
  perMinuteOf(scope: BudgetScope, target: string, sinceMs: number, nowMs: number = Date.now()): MinuteStats[] {
    return this.fillMinutes(sinceMs, nowMs, (first) => this.qPerMinuteOf[scope].all(first, target));
  }

  private fillMinutes(sinceMs: number, nowMs: number, read: (firstKey: string) => unknown[]): MinuteStats[] {
    const first = Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS;
    const last = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    const found = read(minuteKey(first)) as Array<{ minute: string; requests: number; errors: number; costUsd: number }>;
    const out: MinuteStats[] = [];
    let i = 0;
    for (let m = first; m <= last; m += MINUTE_MS) {
      while (i < found.length && minuteMs(found[i]!.minute) < m) i++;
      const f = found[i];
      if (f && minuteMs(f.minute) === m) out.push({ minute: m, requests: f.requests, errors: f.errors, costUsd: f.costUsd });
      else out.push({ minute: m, requests: 0, errors: 0, costUsd: 0 });
    }
    return out;
  }

  /** Per logical model since the minute holding `sinceMs` (minute resolution), busiest first. */
  perModel(sinceMs: number): ModelStats[] {
    const rows = this.qPerModel.all(minuteKey(sinceMs)) as Array<{ logical_model: string; requests: number; costUsd: number; tokens: number }>;
    return rows.map((r) => ({
      logical_model: r.logical_model === '' ? null : r.logical_model,
      requests: r.requests,
      costUsd: r.costUsd,
      tokens: r.tokens,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
