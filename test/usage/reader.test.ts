import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_V1, UsageDbMissingError, UsageSchemaTooNewError } from '../../src/usage/db.js';
import { generateRows } from '../../src/usage/generate.js';
import { UsageLog } from '../../src/usage/log.js';
import { READER_SQL, UsageReader } from '../../src/usage/reader.js';
import { USAGE_SCHEMA_VERSION } from '../../src/usage/schema.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
const open: Array<{ close(): void }> = [];
beforeEach(() => {
  tmp = tempDir();
  dbPath = path.join(tmp.dir, 'usage', 'llm_usage.db');
});
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  tmp.cleanup();
});
const track = <T extends { close(): void }>(o: T): T => (open.push(o), o);

const T0 = Date.UTC(2026, 10, 27, 7, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe('UsageReader: opening', () => {
  it('absent file: UsageDbMissingError; once the gateway creates it, open succeeds', () => {
    expect(() => UsageReader.open(dbPath)).toThrow(UsageDbMissingError);
    const log = track(UsageLog.open(dbPath));
    const r = track(UsageReader.open(dbPath));
    expect(r.maxId()).toBe(0);
    expect(r.latest(10)).toEqual([]);
    expect(r.db.readonly).toBe(true);
    log.insert(sampleRow());
    expect(r.maxId()).toBe(1);
  });

  it('newer schema: UsageSchemaTooNewError with both versions', () => {
    UsageLog.open(dbPath).close();
    const raw = new Database(dbPath);
    raw.pragma(`user_version = ${USAGE_SCHEMA_VERSION + 3}`);
    raw.close();
    try {
      UsageReader.open(dbPath);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageSchemaTooNewError);
      expect((e as UsageSchemaTooNewError).found).toBe(USAGE_SCHEMA_VERSION + 3);
      expect((e as UsageSchemaTooNewError).supported).toBe(USAGE_SCHEMA_VERSION);
    }
  });

  it('an empty file (created, not initialised) and a v1 file not yet migrated: clear errors', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    new Database(dbPath).close();
    expect(() => UsageReader.open(dbPath)).toThrow(/not initialised yet/);
    const v1 = new Database(dbPath);
    v1.exec(MIGRATION_V1);
    v1.pragma('user_version = 1');
    v1.close();
    expect(() => UsageReader.open(dbPath)).toThrow(/start the gateway once to migrate it/);
  });

  it('a database locked exclusively by another program: the error carries SQLITE_BUSY, and reading resumes after', () => {
    UsageLog.open(dbPath).close();
    const locker = new Database(dbPath);
    locker.pragma('locking_mode = EXCLUSIVE');
    locker.exec('BEGIN EXCLUSIVE');
    let err: unknown;
    try {
      track(UsageReader.open(dbPath, { busyTimeoutMs: 10 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/database is locked/);
    expect(((err as Error).cause as { code?: string }).code).toBe('SQLITE_BUSY');
    locker.exec('COMMIT');
    locker.close();
    expect(track(UsageReader.open(dbPath, { busyTimeoutMs: 10 })).maxId()).toBe(0);
  });

  it('reads a closed writer’s file (no -wal/-shm left) read-only', () => {
    const log = UsageLog.open(dbPath);
    log.insert(sampleRow());
    log.close();
    expect(fs.existsSync(dbPath + '-wal')).toBe(false);
    expect(track(UsageReader.open(dbPath)).latest(5)).toHaveLength(1);
  });
});

describe('UsageReader: tail', () => {
  it('reads incrementally by id while the writer appends (WAL: a live reader sees new commits)', () => {
    const log = track(UsageLog.open(dbPath));
    const r = track(UsageReader.open(dbPath));
    for (let i = 0; i < 5; i++) log.insert(sampleRow({ request_id: `a${i}` }));
    let last = 0;
    const seen: string[] = [];
    const pull = () => {
      for (const row of r.rowsAfter(last, 3)) {
        seen.push(row.request_id);
        last = row.id;
      }
    };
    pull();
    expect(seen).toEqual(['a0', 'a1', 'a2']);
    pull();
    log.insert(sampleRow({ request_id: 'b0' }));
    pull();
    expect(seen).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
    expect(r.maxId()).toBe(6);
    expect(r.latest(2).map((x) => x.request_id)).toEqual(['b0', 'a4']);
    expect(r.rowsAfter(6, 10)).toEqual([]);
  });
});

describe('UsageReader: aggregates', () => {
  function fixture(): { reader: UsageReader; now: number } {
    const log = UsageLog.open(dbPath);
    // 10 requests in the minute 07:00, latencies 10..100, two errors; one at 07:02; one long ago
    for (let i = 1; i <= 10; i++) {
      log.insert(
        sampleRow({
          timestamp: iso(T0 + i * 1000),
          latency_ms: i * 10,
          status: i % 5 === 0 ? 'error' : 'success',
          logical_model: i <= 6 ? 'gpt-4' : 'code',
          cost_usd: 0.25,
          total_tokens: 100,
        }),
      );
    }
    log.insert(sampleRow({ timestamp: iso(T0 + 2 * 60_000 + 5), latency_ms: 1000, logical_model: null, cost_usd: 0, total_tokens: null }));
    log.insert(sampleRow({ timestamp: iso(T0 - 3600_000), latency_ms: 99999 }));
    log.close();
    return { reader: track(UsageReader.open(dbPath)), now: T0 + 2 * 60_000 + 30_000 };
  }

  it('stats: exact counts over the window, nearest-rank p50/p95, rps over the window', () => {
    const { reader, now } = fixture();
    const s = reader.stats(T0, now);
    expect(s.requests).toBe(11);
    expect(s.errors).toBe(2);
    expect(s.rps).toBeCloseTo(11 / 150, 12);
    // sorted: 10,20,...,100,1000 -> p50 is the 6th = 60, p95 the 11th = 1000
    expect(s.p50LatencyMs).toBe(60);
    expect(s.p95LatencyMs).toBe(1000);
    const narrow = reader.stats(T0 + 6000, now);
    expect(narrow.requests).toBe(6);
    expect(reader.stats(now + 1, now + 2)).toEqual({ requests: 0, errors: 0, rps: 0, p50LatencyMs: null, p95LatencyMs: null });
  });

  it('count: the counts and rate of stats over the same window, without percentiles', () => {
    const { reader, now } = fixture();
    expect(reader.count(T0, now)).toEqual({ requests: 11, errors: 2, rps: 11 / 150 });
    expect(reader.count(T0 + 6000, now).requests).toBe(6);
    expect(reader.count(now + 1, now + 2)).toEqual({ requests: 0, errors: 0, rps: 0 });
  });

  it('stats: percentiles from the newest rows only when the window holds more than the sample cap', () => {
    fixture();
    const r = track(UsageReader.open(dbPath, { maxLatencySamples: 3 }));
    const s = r.stats(T0, T0 + 200_000);
    expect(s.requests).toBe(11); // counts stay exact
    expect(s.p50LatencyMs).toBe(100); // newest three: 90, 100, 1000
    expect(s.p95LatencyMs).toBe(1000);
  });

  it('perMinute: one entry per minute, gaps as zeros, oldest first', () => {
    const { reader, now } = fixture();
    expect(reader.perMinute(T0 + 30_000, now)).toEqual([
      { minute: T0, requests: 10, errors: 2, costUsd: 2.5 },
      { minute: T0 + 60_000, requests: 0, errors: 0, costUsd: 0 },
      { minute: T0 + 120_000, requests: 1, errors: 0, costUsd: 0 },
    ]);
  });

  it('perModel: busiest first, no-model requests as null, cost and tokens summed', () => {
    const { reader } = fixture();
    expect(reader.perModel(T0)).toEqual([
      { logical_model: 'gpt-4', requests: 6, costUsd: 1.5, tokens: 600 },
      { logical_model: 'code', requests: 4, costUsd: 1, tokens: 400 },
      { logical_model: null, requests: 1, costUsd: 0, tokens: 0 },
    ]);
    expect(reader.perModel(T0 - 7200_000).reduce((a, m) => a + m.requests, 0)).toBe(12);
  });

  it('the aggregates read the time index and the rollup, never a full scan of llm_usage', () => {
    const { reader } = fixture();
    const plan = (sql: string, ...args: unknown[]) =>
      (reader.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((p) => p.detail).filter((d) => !d.startsWith('USE TEMP B-TREE')).join(' | ');
    const since = iso(T0);
    const minute = since.slice(0, 16);
    const expected: Record<keyof typeof READER_SQL, [unknown[], RegExp]> = {
      maxId: [[], /SEARCH llm_usage|SCAN llm_usage/], // max(rowid) is one B-tree step
      rowsAfter: [[1, 5], /^SEARCH llm_usage USING INTEGER PRIMARY KEY \(rowid>\?\)$/],
      latest: [[5], /^SCAN llm_usage$/], // ORDER BY id DESC LIMIT walks the rowid B-tree from its end
      count: [[since], /^SEARCH llm_usage USING COVERING INDEX idx_llm_usage_ts \(timestamp>\?\)$/],
      latencies: [[since, 5], /^SEARCH llm_usage USING COVERING INDEX idx_llm_usage_ts \(timestamp>\?\)$/],
      perMinute: [[minute], /^SEARCH llm_usage_minute USING PRIMARY KEY \(minute>\?\)$/],
      perModel: [[minute], /^SEARCH llm_usage_minute USING PRIMARY KEY \(minute>\?\)/],
      perMinuteProvider: [[minute, 'vllm'], /^SEARCH llm_usage_minute USING PRIMARY KEY \(minute>\?\)$/],
      perMinuteModel: [[minute, 'gpt-4'], /^SEARCH llm_usage_minute USING PRIMARY KEY \(minute>\?\)$/],
      perMinuteCapability: [[minute, 'chat'], /^SEARCH llm_usage_minute USING PRIMARY KEY \(minute>\?\)$/],
      perMinuteKey: [[minute, 'team'], /^SEARCH llm_usage USING INDEX idx_llm_usage_key_ts \(key_alias=\? AND timestamp>\?\)$/],
    };
    for (const [name, [args, re]] of Object.entries(expected)) {
      expect(plan(READER_SQL[name as keyof typeof READER_SQL], ...args), name).toMatch(re);
    }
    expect(Object.keys(expected).sort()).toEqual(Object.keys(READER_SQL).sort());
  });
});

describe('generateRows', () => {
  it('writes n plausible rows over the range, deterministic per seed, and the rollup agrees with the rows', () => {
    const log = track(UsageLog.open(dbPath));
    const start = T0 - 3600_000;
    expect(generateRows(log.db, 5000, { startMs: start, endMs: T0, seed: 7, batchSize: 1000 })).toBe(5000);
    const db = log.db;
    const agg = db
      .prepare(
        `SELECT count(*) AS n, min(timestamp) AS lo, max(timestamp) AS hi, sum(status='error') AS errors,
                sum(cache_hit) AS hits, sum(cache_hit AND cost_usd <> 0) AS paidHits, count(DISTINCT logical_model) AS models,
                sum(total_tokens <> prompt_tokens + completion_tokens) AS badTotals
         FROM llm_usage`,
      )
      .get() as Record<string, number | string>;
    expect(agg).toMatchObject({ n: 5000, lo: iso(start), hi: iso(T0), paidHits: 0, badTotals: 0 });
    expect(agg.errors as number).toBeGreaterThan(50);
    expect(agg.errors as number).toBeLessThan(400);
    expect(agg.hits as number).toBeGreaterThan(50);
    expect(agg.models as number).toBeGreaterThanOrEqual(3);
    const reader = track(UsageReader.open(dbPath));
    const perModel = reader.perModel(start);
    expect(perModel.reduce((a, m) => a + m.requests, 0)).toBe(5000);
    const cost = db.prepare('SELECT sum(cost_usd) FROM llm_usage').pluck().get() as number;
    expect(perModel.reduce((a, m) => a + m.costUsd, 0)).toBeCloseTo(cost, 9);

    const other = path.join(tmp.dir, 'other.db');
    const log2 = track(UsageLog.open(other));
    generateRows(log2.db, 5000, { startMs: start, endMs: T0, seed: 7 });
    const digest = (d: Database.Database) =>
      d.prepare("SELECT group_concat(request_id || latency_ms || coalesce(cost_usd, 0), ',') FROM llm_usage").pluck().get();
    expect(digest(log2.db)).toBe(digest(db));
  });
});
