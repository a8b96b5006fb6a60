import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_V1, USAGE_MIGRATIONS, openReaderDb, UsageSchemaTooNewError, UsageDbMissingError, WRITER_CACHE_KIB } from '../../src/usage/db.js';
import { UsageLog } from '../../src/usage/log.js';
import { USAGE_SCHEMA_VERSION, type StoredUsageRow, type UsageRow } from '../../src/usage/schema.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
beforeEach(() => {
  tmp = tempDir();
  dbPath = path.join(tmp.dir, 'runtime', 'usage', 'llm_usage.db');
});
afterEach(() => tmp.cleanup());

function allRows(file: string): StoredUsageRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT * FROM llm_usage ORDER BY id').all() as StoredUsageRow[];
  } finally {
    db.close();
  }
}

describe('usage db: open and migrations', () => {
  it('creates dir, file, WAL, schema version and the time-range indexes from nothing', () => {
    const log = UsageLog.open(dbPath);
    expect(fs.existsSync(dbPath)).toBe(true);
    expect(log.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(log.db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    expect(log.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    // SQLite's 2 MB page cache, not better-sqlite3's 16 MB, which the writer would keep full
    expect(log.db.pragma('cache_size', { simple: true })).toBe(-WRITER_CACHE_KIB);
    expect(WRITER_CACHE_KIB).toBeLessThanOrEqual(4096);
    const idx = (log.db.prepare(`SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='llm_usage'`).all() as {
      name: string;
      sql: string;
    }[]).map((r) => r.sql);
    expect(idx.some((s) => /ON llm_usage\(timestamp[,)]/.test(s))).toBe(true);
    // v6 dropped the capability index and v7 the provider and model ones: each costs every commit
    // a B-tree page, and the search and budgets read those columns through the rollup and by time
    for (const col of ['provider', 'logical_model', 'capability']) {
      expect(idx.some((s) => new RegExp(`\\(${col}, timestamp`).test(s)), col).toBe(false);
    }
    const cols = (log.db.prepare('PRAGMA table_info(llm_usage)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).toEqual([
      'id', 'request_id', 'timestamp', 'provider', 'logical_model', 'concrete_model', 'capability', 'endpoint',
      'stream', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_ms', 'ttft_ms',
      'status', 'http_status', 'error_type', 'error_message', 'cache_hit', 'attempts', 'usage_source', 'key_alias',
    ]);
    log.close();
  });

  it('reopens idempotently and keeps the rows', () => {
    const a = UsageLog.open(dbPath);
    a.insert(sampleRow());
    a.close();
    const b = UsageLog.open(dbPath);
    expect(b.db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    b.insert(sampleRow());
    b.close();
    expect(allRows(dbPath)).toHaveLength(2);
  });

  it('refuses a database with a newer schema version, writer and reader alike', () => {
    UsageLog.open(dbPath).close();
    const raw = new Database(dbPath);
    raw.pragma(`user_version = ${USAGE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => UsageLog.open(dbPath)).toThrow(UsageSchemaTooNewError);
    expect(() => UsageLog.open(dbPath)).toThrow(/newer than this ptui supports/);
    expect(() => openReaderDb(dbPath)).toThrow(UsageSchemaTooNewError);
  });

  it('reader: a missing file is UsageDbMissingError, and nothing is created', () => {
    expect(() => openReaderDb(dbPath)).toThrow(UsageDbMissingError);
    expect(fs.existsSync(path.dirname(dbPath))).toBe(false);
  });

  it('a runtime dir that cannot be created (a regular file in the way) is a clear error naming the path', () => {
    const blocker = path.join(tmp.dir, 'runtime');
    fs.writeFileSync(blocker, 'not a dir');
    expect(() => UsageLog.open(dbPath)).toThrow(
      new RegExp(`cannot create usage log directory ${path.dirname(dbPath).replace(/[/.]/g, '\\$&')}: a path component is not a directory`),
    );
  });

  it('a database path that is a directory is a clear error naming the path', () => {
    fs.mkdirSync(dbPath, { recursive: true });
    expect(() => UsageLog.open(dbPath)).toThrow(new RegExp(`cannot open usage log .*llm_usage\\.db`));
  });
});

describe('usage log writer', () => {
  it('stores every column as given and reads it back', () => {
    const log = UsageLog.open(dbPath);
    const ok = sampleRow();
    const err = sampleRow({
      provider: null,
      logical_model: 'no-such-model',
      concrete_model: null,
      capability: null,
      endpoint: 'embeddings',
      stream: 0,
      prompt_tokens: null,
      completion_tokens: null,
      total_tokens: null,
      cost_usd: 0,
      ttft_ms: null,
      status: 'error',
      http_status: 404,
      error_type: 'model_not_found',
      error_message: 'model "no-such-model" not found',
      cache_hit: 0,
      attempts: 0,
    });
    const hit = sampleRow({ cache_hit: 1, cost_usd: 0, endpoint: 'completions' });
    for (const r of [ok, err, hit]) log.insert(r);
    log.close();
    const rows = allRows(dbPath);
    expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual([ok, err, hit]);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('never throws on a row the database can never accept: counted as dropped, the next rows still land', () => {
    const dropped: (UsageRow | undefined)[] = [];
    const errors: Error[] = [];
    const log = UsageLog.open(dbPath, { onDropped: (_n, row) => dropped.push(row), onWriteError: (e) => errors.push(e) });
    const bad = sampleRow({ request_id: null as unknown as string });
    expect(() => log.insert(bad)).not.toThrow();
    expect(dropped).toEqual([bad]);
    expect(errors).toHaveLength(1);
    expect(log.degradedReason).toBeNull();
    log.insert(sampleRow());
    log.close();
    expect(allRows(dbPath)).toHaveLength(1);
  });

  it('a reader holding the file open (and mid-read) does not fail writes', () => {
    const log = UsageLog.open(dbPath);
    log.insert(sampleRow());
    const reader = openReaderDb(dbPath);
    // A read transaction stays open while the iterator is live: the WAL writer must not care.
    const it = reader.prepare('SELECT id FROM llm_usage').iterate();
    it.next();
    for (let i = 0; i < 500; i++) log.insert(sampleRow());
    expect(log.degradedReason).toBeNull();
    expect(log.bufferedRows).toBe(0);
    it.return?.();
    expect(reader.prepare('SELECT count(*) FROM llm_usage').pluck().get()).toBe(501);
    reader.close();
    log.close();
  });

  it('another writer holding the lock past busy_timeout: rows buffered, degraded, then written in order', () => {
    const buffered: number[] = [];
    let errors = 0;
    const log = UsageLog.open(
      dbPath,
      { onBuffered: (n) => buffered.push(n), onWriteError: () => errors++ },
      { busyTimeoutMs: 20, retryMs: 60_000 },
    );
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    const rows = [sampleRow(), sampleRow(), sampleRow()];
    for (const r of rows) expect(() => log.insert(r)).not.toThrow();
    expect(log.degradedReason).toBe('usage log: database is locked');
    expect(log.bufferedRows).toBe(3);
    expect(buffered).toEqual([1, 2, 3]);
    expect(errors).toBe(1); // rows behind a buffered one queue without retrying one by one
    expect(log.flush()).toBe(3); // still locked
    other.exec('COMMIT');
    other.close();
    expect(log.flush()).toBe(0);
    expect(log.degradedReason).toBeNull();
    expect(buffered.at(-1)).toBe(0);
    log.close();
    expect(allRows(dbPath).map((r) => r.request_id)).toEqual(rows.map((r) => r.request_id));
  });

  it('the retry timer drains the buffer by itself once the lock goes', async () => {
    const log = UsageLog.open(dbPath, {}, { busyTimeoutMs: 10, retryMs: 20 });
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    log.insert(sampleRow());
    expect(log.bufferedRows).toBe(1);
    other.exec('COMMIT');
    other.close();
    await expect.poll(() => log.bufferedRows, { timeout: 5000 }).toBe(0);
    expect(log.degradedReason).toBeNull();
    log.close();
    expect(allRows(dbPath)).toHaveLength(1);
  });

  it('buffer overflow is counted as dropped, never silently lost; close() reports what it could not write', () => {
    const dropped: string[] = [];
    const log = UsageLog.open(
      dbPath,
      { onDropped: (n, row) => dropped.push(`${n}:${row?.request_id}`) },
      { busyTimeoutMs: 5, retryMs: 60_000, maxBuffered: 2 },
    );
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    const rows = [sampleRow(), sampleRow(), sampleRow(), sampleRow()];
    for (const r of rows) log.insert(r);
    expect(log.bufferedRows).toBe(2);
    expect(dropped).toEqual([`1:${rows[2]!.request_id}`, `1:${rows[3]!.request_id}`]);
    log.close(); // still locked: the two buffered rows are reported, not lost in silence
    expect(dropped).toHaveLength(4);
    other.exec('COMMIT');
    other.close();
    log.insert(sampleRow()); // after close: reported as dropped, no throw
    expect(dropped).toHaveLength(5);
    expect(allRows(dbPath)).toHaveLength(0);
  });

  it('close() flushes buffered rows when the database accepts them again, and is idempotent', () => {
    const log = UsageLog.open(dbPath, {}, { busyTimeoutMs: 5, retryMs: 60_000 });
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    log.insert(sampleRow());
    log.insert(sampleRow());
    other.exec('ROLLBACK');
    other.close();
    log.close();
    log.close();
    expect(allRows(dbPath)).toHaveLength(2);
    // checkpointed on close: the WAL is empty
    const wal = dbPath + '-wal';
    expect(!fs.existsSync(wal) || fs.statSync(wal).size === 0).toBe(true);
  });
});

describe('schema v2: per-minute rollup', () => {
  const rollupOf = (db: Database.Database) =>
    db.prepare('SELECT * FROM llm_usage_minute ORDER BY minute, provider, logical_model, capability').all();
  const recomputed = (db: Database.Database) =>
    db
      .prepare(
        `SELECT substr(timestamp,1,16) AS minute, coalesce(provider,'') AS provider, coalesce(logical_model,'') AS logical_model,
                coalesce(capability,'') AS capability, count(*) AS requests, sum(status='error') AS errors,
                coalesce(sum(cost_usd),0) AS cost_usd, coalesce(sum(prompt_tokens),0) AS prompt_tokens,
                coalesce(sum(completion_tokens),0) AS completion_tokens, coalesce(sum(total_tokens),0) AS total_tokens,
                coalesce(sum(latency_ms),0) AS latency_ms_sum
         FROM llm_usage GROUP BY 1,2,3,4 ORDER BY 1,2,3,4`,
      )
      .all();

  const mixedRows = () => [
    sampleRow({ timestamp: '2026-01-02T03:04:05.000Z' }),
    sampleRow({ timestamp: '2026-01-02T03:04:59.999Z', cost_usd: 0.5 }),
    sampleRow({ timestamp: '2026-01-02T03:05:00.000Z', status: 'error', http_status: 502, error_type: 'upstream_error' }),
    sampleRow({ timestamp: '2026-01-02T03:05:01.000Z', provider: null, logical_model: null, capability: null, prompt_tokens: null, completion_tokens: null, total_tokens: null, cost_usd: null, status: 'error', http_status: 400 }),
    sampleRow({ timestamp: '2026-01-02T03:05:02.000Z', logical_model: 'code', capability: 'code', provider: 'ollama' }),
  ];

  it('migrates a v1 file: rows kept, rollup backfilled exactly, new inserts keep it exact', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const v1 = new Database(dbPath);
    v1.pragma('journal_mode = WAL');
    v1.exec(MIGRATION_V1);
    v1.pragma('user_version = 1');
    const ins = v1.prepare(
      `INSERT INTO llm_usage (request_id, timestamp, provider, logical_model, concrete_model, capability, endpoint, stream,
        prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, ttft_ms, status, http_status, error_type,
        error_message, cache_hit, attempts) VALUES (@request_id, @timestamp, @provider, @logical_model, @concrete_model,
        @capability, @endpoint, @stream, @prompt_tokens, @completion_tokens, @total_tokens, @cost_usd, @latency_ms, @ttft_ms,
        @status, @http_status, @error_type, @error_message, @cache_hit, @attempts)`,
    );
    for (const r of mixedRows()) ins.run(r);
    v1.close();

    const log = UsageLog.open(dbPath);
    expect(log.db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    expect(log.db.prepare('SELECT count(*) FROM llm_usage').pluck().get()).toBe(5);
    expect(rollupOf(log.db)).toEqual(recomputed(log.db));
    expect(rollupOf(log.db)).toHaveLength(4);
    for (const r of mixedRows()) log.insert(r);
    expect(rollupOf(log.db)).toEqual(recomputed(log.db));
    // deletes (a retention job) keep it exact too, and empty groups disappear
    log.db.prepare(`DELETE FROM llm_usage WHERE logical_model = 'code'`).run();
    expect(rollupOf(log.db)).toEqual(recomputed(log.db));
    log.close();
  });
});

/** A usage log at dbPath exactly as schema version `version` shipped it, open for writing rows. */
function fileAsShipped(version: number): Database.Database {
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const raw = new Database(dbPath);
  raw.pragma('journal_mode = WAL');
  for (const m of USAGE_MIGRATIONS.slice(0, version)) raw.exec(m);
  raw.pragma(`user_version = ${version}`);
  return raw;
}

describe('schema v4: usage_source and key_alias', () => {
  it('a v3 file gains both columns (old rows read NULL) and a key index; the writer stores them', () => {
    const raw = fileAsShipped(3);
    raw.prepare(`INSERT INTO llm_usage (request_id, timestamp, endpoint, status) VALUES ('old', '2026-01-01T00:00:00.000Z', 'chat', 'success')`).run();
    raw.close();

    const log = UsageLog.open(dbPath);
    expect(log.db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    const idx = log.db.prepare(`SELECT sql FROM sqlite_master WHERE type='index' AND name='idx_llm_usage_key_ts'`).pluck().get();
    expect(String(idx)).toMatch(/\(key_alias, timestamp, cost_usd\)/);
    log.insert(sampleRow({ request_id: 'est', usage_source: 'estimated', key_alias: 'team-a' }));
    log.insert(sampleRow({ request_id: 'given', usage_source: 'upstream', key_alias: null }));
    // Not given: the provider's usage when there are tokens; nothing to say when there are none.
    log.insert(sampleRow({ request_id: 'default', usage_source: undefined, key_alias: undefined }));
    log.insert(
      sampleRow({ request_id: 'rejected', usage_source: undefined, prompt_tokens: null, completion_tokens: null, total_tokens: null }),
    );
    // Hostile values never reach the column: anything but the two words is the default.
    log.insert(sampleRow({ request_id: 'odd', usage_source: 'made-up' as unknown as 'upstream' }));
    log.close();
    const got = allRows(dbPath).map((r) => [r.request_id, r.usage_source, r.key_alias]);
    expect(got).toEqual([
      ['old', null, null],
      ['est', 'estimated', 'team-a'],
      ['given', 'upstream', null],
      ['default', 'upstream', null],
      ['rejected', null, null],
      ['odd', 'upstream', null],
    ]);
  });
});

describe('schema v7: no provider or model index', () => {
  it('a v6 file loses both indexes and keeps its rows, which the time index still finds', () => {
    const raw = fileAsShipped(6);
    raw.prepare(`INSERT INTO llm_usage (request_id, timestamp, provider, logical_model, endpoint, status) VALUES ('old', '2026-01-01T00:00:00.000Z', 'p', 'm', 'chat', 'success')`).run();
    const names = (db: Database.Database) => db.prepare(`SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='llm_usage'`).pluck().all();
    expect(names(raw)).toEqual(expect.arrayContaining(['idx_llm_usage_provider_ts', 'idx_llm_usage_model_ts']));
    raw.close();

    const log = UsageLog.open(dbPath);
    expect(log.db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    expect(names(log.db)).not.toContain('idx_llm_usage_provider_ts');
    expect(names(log.db)).not.toContain('idx_llm_usage_model_ts');
    expect(names(log.db)).toEqual(expect.arrayContaining(['idx_llm_usage_ts', 'idx_llm_usage_status_ts', 'idx_llm_usage_request_id']));
    log.insert(sampleRow({ request_id: 'new', provider: 'p', logical_model: 'm' }));
    const plan = log.db.prepare(`EXPLAIN QUERY PLAN SELECT SUM(cost_usd) FROM llm_usage WHERE provider = ? AND timestamp > ? AND timestamp <= ?`).all('p', 'a', 'b') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' | ')).toMatch(/USING INDEX idx_llm_usage_ts/);
    expect(log.db.prepare(`SELECT request_id FROM llm_usage WHERE provider = 'p' ORDER BY id`).pluck().all()).toEqual(['old', 'new']);
    log.close();
  });
});

describe("batch: 'tick'", () => {
  it('rows of one turn land together after it; flush() and close() write what is pending', async () => {
    const log = UsageLog.open(dbPath, {}, { batch: 'tick' });
    const count = () => log.db.prepare('SELECT count(*) FROM llm_usage').pluck().get();
    log.insert(sampleRow());
    log.insert(sampleRow());
    expect(count()).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(count()).toBe(2);
    log.insert(sampleRow());
    expect(log.flush()).toBe(0);
    expect(count()).toBe(3);
    log.insert(sampleRow());
    log.close();
    expect(allRows(dbPath)).toHaveLength(4);
  });

  it('a bad row in a batch is dropped alone; a locked database buffers the whole batch', async () => {
    const dropped: string[] = [];
    const buffered: number[] = [];
    const log = UsageLog.open(
      dbPath,
      { onDropped: (_n, r) => dropped.push(String(r?.request_id)), onBuffered: (n) => buffered.push(n) },
      { batch: 'tick', busyTimeoutMs: 5, retryMs: 60_000 },
    );
    const good = [sampleRow(), sampleRow()];
    log.insert(good[0]!);
    log.insert(sampleRow({ request_id: null as unknown as string }));
    log.insert(good[1]!);
    await new Promise((r) => setImmediate(r));
    expect(dropped).toEqual(['null']);
    expect(log.degradedReason).toBeNull();
    expect(buffered.at(-1) ?? 0).toBe(0);
    expect(allRows(dbPath).map((r) => r.request_id)).toEqual(good.map((r) => r.request_id));

    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    log.insert(sampleRow());
    log.insert(sampleRow());
    await new Promise((r) => setImmediate(r));
    expect(log.bufferedRows).toBe(2);
    expect(log.degradedReason).toBe('usage log: database is locked');
    other.exec('COMMIT');
    other.close();
    log.close();
    expect(allRows(dbPath)).toHaveLength(4);
  });
});
