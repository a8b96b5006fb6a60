// The Requests feed on real SQLite files: absent (empty, then fills once the log appears),
// read incrementally, locked by another program (last rows kept, a notice), newer schema.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLog } from '../../src/usage/log.js';
import { UsageFeed } from '../../src/tui/data/usageFeed.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

describe('UsageFeed', () => {
  let dir: { dir: string; cleanup: () => void };
  let dbPath: string;
  let feed: UsageFeed;

  beforeEach(() => {
    dir = tempDir('ptui-feed-');
    dbPath = path.join(dir.dir, 'usage', 'llm_usage.db');
    feed = new UsageFeed({ dbPath, pollMs: 1000, statsMs: 0, keep: 5, busyTimeoutMs: 10 });
  });

  afterEach(() => {
    feed.stop();
    dir.cleanup();
  });

  const now = () => Date.now();
  const row = (model: string, msAgo = 0) => sampleRow({ logical_model: model, timestamp: new Date(now() - msAgo).toISOString() });

  it('is an empty panel with a notice while the log does not exist, and fills once it appears', () => {
    feed.poll();
    expect(feed.getSnapshot()).toMatchObject({ rows: [], dbState: 'absent' });
    expect(feed.getSnapshot().notice).toContain('no usage log yet');
    const log = UsageLog.open(dbPath);
    log.insert(row('first'));
    log.insert(row('second'));
    feed.poll();
    const s = feed.getSnapshot();
    expect(s.dbState).toBe('open');
    expect(s.notice).toBeNull();
    expect(s.rows.map((r) => r.logical_model)).toEqual(['second', 'first']);
    expect(s.stats).toMatchObject({ requests: 2, errors: 0 });
    log.close();
  });

  it('reads only new rows by id, newest first, keeping at most `keep`', () => {
    const log = UsageLog.open(dbPath);
    for (let i = 0; i < 3; i++) log.insert(row(`m${i}`));
    feed.poll();
    const before = feed.getSnapshot().rows;
    feed.poll();
    expect(feed.getSnapshot().rows).toBe(before); // nothing new: the same snapshot, no re-render
    for (let i = 3; i < 7; i++) log.insert(row(`m${i}`, 0));
    log.insert(row('err', 0));
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['err', 'm6', 'm5', 'm4', 'm3']);
    log.close();
  });

  it('orders rows by start time, as the time column says, not by when they finished', () => {
    const log = UsageLog.open(dbPath);
    // written as they end: a long stream that started first ends last
    log.insert(row('quick-second', 2000));
    log.insert(row('quick-third', 1000));
    log.insert(row('long-first', 60_000));
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['quick-third', 'quick-second', 'long-first']);
    log.insert(row('newest', 0));
    log.insert(row('older-than-all', 120_000));
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['newest', 'quick-third', 'quick-second', 'long-first', 'older-than-all']);
    log.close();
  });

  it('counts errors and requests in the windows', () => {
    const log = UsageLog.open(dbPath);
    log.insert(sampleRow({ timestamp: new Date(now() - 30_000).toISOString(), latency_ms: 100 }));
    log.insert(sampleRow({ timestamp: new Date(now() - 1000).toISOString(), latency_ms: 300, status: 'error', http_status: 502 }));
    log.insert(sampleRow({ timestamp: new Date(now() - 120_000).toISOString(), latency_ms: 900 })); // outside both windows
    feed.poll();
    const stats = feed.getSnapshot().stats!;
    expect(stats.requests).toBe(2);
    expect(stats.errors).toBe(1);
    expect(stats.rps).toBeCloseTo(1 / 10, 5); // one request in the 10 s rate window
    expect(stats.p50LatencyMs).toBe(100);
    expect(stats.p95LatencyMs).toBe(300);
    log.close();
  });

  it('keeps the last rows and says so while another program holds the database locked', () => {
    const log = UsageLog.open(dbPath);
    log.insert(row('kept'));
    log.close();
    feed.poll();
    expect(feed.getSnapshot().rows).toHaveLength(1);
    // An open WAL reader keeps its shared-memory slot, so the exclusive lock is taken while the
    // feed reconnects (as after a replaced file or a restart of the gateway's database).
    feed.stop();
    const locker = new Database(dbPath);
    locker.pragma('locking_mode = EXCLUSIVE');
    locker.exec('BEGIN EXCLUSIVE');
    try {
      feed.poll();
      const s = feed.getSnapshot();
      expect(s.dbState).toBe('locked');
      expect(s.notice).toContain('locked');
      expect(s.rows.map((r) => r.logical_model)).toEqual(['kept']);
    } finally {
      locker.exec('COMMIT');
      locker.close();
    }
    feed.poll();
    expect(feed.getSnapshot()).toMatchObject({ dbState: 'open', notice: null });
  });

  it('refuses a log of a newer schema with a clear notice', () => {
    UsageLog.open(dbPath).close();
    const db = new Database(dbPath);
    db.pragma('user_version = 99');
    db.close();
    feed.poll();
    const s = feed.getSnapshot();
    expect(s.dbState).toBe('too-new');
    expect(s.notice).toMatch(/schema v99 is newer than this ptui \(v\d+\): upgrade ptui/);
    expect(s.rows).toEqual([]);
  });

  it('starts over when the file is replaced by a shorter one', () => {
    const log = UsageLog.open(dbPath);
    for (let i = 0; i < 3; i++) log.insert(row(`old${i}`));
    log.close();
    feed.poll();
    feed.stop(); // closes the reader, as a deleted file would force
    const db = new Database(dbPath);
    db.exec('DELETE FROM llm_usage');
    db.close();
    const log2 = UsageLog.open(dbPath);
    log2.insert(row('new'));
    log2.close();
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['new']);
  });

  it('filters on the whole log, beyond the rows it holds, and keeps the matches up to date', () => {
    const log = UsageLog.open(dbPath);
    log.insert(sampleRow({ logical_model: 'old', status: 'error', http_status: 429, error_type: 'rate_limit_exceeded', timestamp: new Date(now() - 60_000).toISOString() }));
    for (let i = 0; i < 8; i++) log.insert(row(`m${i}`, 1000));
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).not.toContain('old'); // keep is 5
    feed.setFilter(' 429 ');
    expect(feed.getSnapshot().filter).toMatchObject({ text: '429', matches: 1, capped: false, total: 9 });
    expect(feed.getSnapshot().filter!.rows.map((r) => r.logical_model)).toEqual(['old']);
    log.insert(sampleRow({ logical_model: 'new', status: 'error', http_status: 429, timestamp: new Date(now()).toISOString() }));
    log.insert(row('ok-again'));
    feed.poll();
    expect(feed.getSnapshot().filter).toMatchObject({ matches: 2, total: 11 });
    expect(feed.getSnapshot().filter!.rows.map((r) => r.logical_model)).toEqual(['new', 'old']);
    feed.setFilter('no such thing');
    expect(feed.getSnapshot().filter).toMatchObject({ rows: [], matches: 0, total: 11 });
    feed.setFilter('');
    expect(feed.getSnapshot().filter).toBeNull();
    expect(feed.getSnapshot().rows).toHaveLength(5);
    log.close();
  });

  it('reads one scope per minute for a detail, zeros where there was no traffic', () => {
    const log = UsageLog.open(dbPath);
    log.insert(sampleRow({ provider: 'vllm', cost_usd: 0.5, timestamp: new Date(now() - 120_000).toISOString() }));
    log.insert(sampleRow({ provider: 'other', cost_usd: 9, timestamp: new Date(now()).toISOString() }));
    feed.poll();
    const series = feed.series('provider', 'vllm', now() - 4 * 60_000);
    expect(series).toHaveLength(5);
    expect(series.map((m) => m.requests)).toEqual([0, 0, 1, 0, 0]);
    expect(series.reduce((n, m) => n + m.costUsd, 0)).toBe(0.5);
    log.close();
  });

  it('keeps reading a log that was deleted and created again (a new file at the same path)', () => {
    const log = UsageLog.open(dbPath);
    for (let i = 0; i < 3; i++) log.insert(row(`old${i}`));
    log.close();
    feed.poll();
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['old2', 'old1', 'old0']);
    // the feed's connection stays open on the deleted file: only the path says it is gone
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(dbPath + suffix, { force: true });
    feed.poll();
    const fresh = UsageLog.open(dbPath);
    for (let i = 0; i < 5; i++) fresh.insert(row(`new${i}`)); // more rows than before: ids pass the old ones
    feed.poll();
    expect(feed.getSnapshot()).toMatchObject({ dbState: 'open', notice: null });
    expect(feed.getSnapshot().rows.map((r) => r.logical_model)).toEqual(['new4', 'new3', 'new2', 'new1', 'new0']);
    fresh.insert(row('newest'));
    feed.poll();
    expect(feed.getSnapshot().rows[0].logical_model).toBe('newest');
    expect(feed.db()!.open).toBe(true);
    fresh.close();
  });
});
