// The usage log's text search (the console's Requests filter) on a real SQLite file written by
// the gateway's writer: what it matches, literally; how it counts; that it reads the whole log,
// newest start first; and that every query it runs goes through an index.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLog } from '../../src/usage/log.js';
import { UsageReader } from '../../src/usage/reader.js';
import { SEARCH_SQL, UsageSearch, rowMatches } from '../../src/usage/search.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

let tmp: ReturnType<typeof tempDir>;
let log: UsageLog;
let reader: UsageReader;
let search: UsageSearch;
const T0 = Date.UTC(2026, 10, 27, 7, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

beforeEach(() => {
  tmp = tempDir();
  const dbPath = path.join(tmp.dir, 'usage', 'llm_usage.db');
  log = UsageLog.open(dbPath);
  // written in completion order: the 429 that started first ends last
  log.insert(sampleRow({ request_id: 'aa-1', timestamp: at(5), status: 'error', http_status: 429, error_type: 'rate_limit_exceeded', provider: 'vllm' }));
  log.insert(sampleRow({ request_id: 'bb-2', timestamp: at(9), logical_model: 'a.*b', provider: 'openai' }));
  log.insert(sampleRow({ request_id: 'cc-3', timestamp: at(7), logical_model: 'axxb', key_alias: 'team_50%' }));
  log.insert(sampleRow({ request_id: 'dd-4', timestamp: at(8), status: 'error', http_status: 429, error_type: 'budget_exceeded' }));
  log.insert(sampleRow({ request_id: 'ee-5', timestamp: at(1), status: 'error', http_status: 502, error_type: 'upstream_error', provider: null, logical_model: null }));
  reader = UsageReader.open(dbPath);
  search = new UsageSearch(reader.db);
});
afterEach(() => {
  reader.close();
  log.close();
  tmp.cleanup();
});

const ids = (text: string) => search.search(text, 100).rows.map((r) => r.request_id);

describe('UsageSearch', () => {
  it('finds the 429s, newest start first, and counts them against the whole log', () => {
    const r = search.search('429', 100);
    expect(r.rows.map((x) => x.request_id)).toEqual(['dd-4', 'aa-1']);
    expect(r).toMatchObject({ matches: 2, capped: false, total: 5 });
  });

  it('matches model, provider, status words, error type, key alias and the start of a request id, ignoring case', () => {
    expect(ids('OPENAI')).toEqual(['bb-2']);
    expect(ids('err')).toEqual(['dd-4', 'aa-1', 'ee-5']);
    expect(ids('budget_exc')).toEqual(['dd-4']);
    expect(ids('team_')).toEqual(['cc-3']);
    expect(ids('cc-')).toEqual(['cc-3']);
    expect(ids('-3')).toEqual([]); // ids match from their start
  });

  it('takes regex and LIKE characters literally', () => {
    expect(ids('a.*b')).toEqual(['bb-2']);
    expect(ids('50%')).toEqual(['cc-3']);
    expect(ids('%')).toEqual(['cc-3']);
    expect(ids('_')).toEqual(['dd-4', 'cc-3', 'aa-1', 'ee-5']); // the underscores of error types and the alias
    expect(ids('[')).toEqual([]);
  });

  it('a filter that matches nothing: no rows, 0 of the total', () => {
    expect(search.search('no-such-thing', 100)).toMatchObject({ rows: [], matches: 0, capped: false, total: 5 });
  });

  it('counts a row matched by several columns once', () => {
    // "e" is in the status, the error type, the model … of most rows
    const r = search.search('e', 100);
    expect(r.matches).toBe(new Set(r.rows.map((x) => x.id)).size);
    expect(r.matches).toBe(5);
  });

  it('agrees with the rule for rows on screen', () => {
    const all = reader.latest(100);
    for (const text of ['429', 'err', 'a.*b', 'team', 'vllm', 'cc', 'ok']) {
      const needle = text.toLowerCase();
      expect(ids(text).sort(), text).toEqual(all.filter((r) => rowMatches(r, needle)).map((r) => r.request_id).sort());
    }
  });

  it('reads every row through an index', () => {
    const plan = (sql: string, ...args: unknown[]) =>
      (reader.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((p) => p.detail).join(' | ');
    for (const c of ['error_type', 'key_alias']) {
      expect(plan(SEARCH_SQL.nextValue(c), ''), c).toMatch(/USING (COVERING )?INDEX/);
      expect(plan(SEARCH_SQL.rowsOf(c), 'x', 10), c).toMatch(/USING COVERING INDEX/); // ids and times from the index alone
    }
    expect(plan(SEARCH_SQL.nextStatus, '')).toMatch(/USING COVERING INDEX idx_llm_usage_status_ts \(status>\?\)/);
    expect(plan(SEARCH_SQL.nextHttpStatus, 'error', 0)).toMatch(/USING COVERING INDEX idx_llm_usage_status_ts \(status=\? AND http_status>\?\)/);
    expect(plan(SEARCH_SQL.rowsOfStatus, 'error', 429, 10)).toMatch(/USING COVERING INDEX idx_llm_usage_status_ts/);
    expect(plan(SEARCH_SQL.rowsById, '[1]')).toMatch(/USING INTEGER PRIMARY KEY/);
    expect(plan(SEARCH_SQL.rowsOfRequestId, 'a', 'b', 10)).toMatch(/USING INDEX idx_llm_usage_request_id/);
    // providers and models: the rollup (its primary key), then llm_usage by time range
    expect(plan(SEARCH_SQL.minutesOf, '[]', '[]')).toMatch(/llm_usage_minute/);
    expect(plan(SEARCH_SQL.rowsInMinute, 'a', 'b', '[]', '[]')).toMatch(/SEARCH llm_usage USING INDEX \w+ \(/);
    for (const sql of Object.values(SEARCH_SQL)) {
      const text = typeof sql === 'function' ? sql('error_type') : sql;
      expect(plan(text, ...Array(text.split('?').length - 1).fill('x'))).not.toMatch(/SCAN llm_usage\b(?! USING)/);
    }
  });

  it('needs no index on provider or model: those come from the per-minute rollup', () => {
    log.db.exec('DROP INDEX IF EXISTS idx_llm_usage_provider_ts; DROP INDEX IF EXISTS idx_llm_usage_model_ts; DROP INDEX IF EXISTS idx_llm_usage_capability_ts;');
    const bare = new UsageSearch(reader.db);
    expect(bare.search('openai', 100).rows.map((r) => r.request_id)).toEqual(['bb-2']);
    expect(bare.search('a.*b', 100)).toMatchObject({ matches: 1, total: 5 });
    expect(bare.search('vllm', 100).rows.map((r) => r.request_id)).toEqual(['dd-4', 'cc-3', 'aa-1']);
    const plan = (sql: string, ...args: unknown[]) =>
      (reader.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((p) => p.detail).join(' | ');
    expect(plan(SEARCH_SQL.rowsInMinute, 'a', 'b', '[]', '[]')).toMatch(/SEARCH llm_usage USING INDEX idx_llm_usage_ts \(timestamp>\? AND timestamp<\?\)/);
  });
});
