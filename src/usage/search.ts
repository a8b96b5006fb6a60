// Finding usage-log rows by a piece of text (the console's `/` filter on Requests), through
// indexes only, so it costs the same at 10 M rows as at 10. The text is matched literally and
// ignoring case against the model, provider, status (`success`/`error`, shown as ok/err, and
// the HTTP status), error type and key alias, and against the start of the request id. The
// first five hold few distinct values: those are walked through their index one at a time
// (a skip scan, a lookup each), matched here in JavaScript (no LIKE, no pattern syntax, so
// `%`, `_`, `.*` or `[` are only characters), and the rows of the values that match are read
// newest first through the same index. Request ids are unique, so they are found by prefix
// through their own index.
import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import type { StoredUsageRow } from './schema.js';

/** What a row is matched on; a filter is a piece of text found in one of these. */
type Searched = Pick<StoredUsageRow, 'logical_model' | 'provider' | 'status' | 'http_status' | 'error_type' | 'key_alias' | 'request_id'>;

export const MAX_FILTER_CHARS = 200;
/** Distinct values read per column before giving up on the rest (they are not few after all). */
const MAX_VALUES = 2000;
/** Matches are counted exactly up to this many; more reads as "at least". */
export const MAX_COUNTED = 100_000;

/** The filter as matched: trimmed, lower case, at most MAX_FILTER_CHARS; '' matches everything. */
export function normalizeFilter(text: string): string {
  return [...text.trim()].slice(0, MAX_FILTER_CHARS).join('').toLowerCase();
}

const has = (v: unknown, needle: string) => v !== null && v !== undefined && String(v).toLowerCase().includes(needle);

/** Whether a row matches a normalized filter: the one rule, for rows on screen and in the log. */
export function rowMatches(row: Partial<Searched>, needle: string): boolean {
  if (needle === '') return true;
  const word = row.status === 'success' ? 'ok' : row.status === 'error' ? 'err' : null;
  return (
    has(row.logical_model, needle) ||
    has(row.provider, needle) ||
    has(row.status, needle) ||
    has(word, needle) ||
    has(row.http_status, needle) ||
    has(row.error_type, needle) ||
    has(row.key_alias, needle) ||
    (typeof row.request_id === 'string' && row.request_id.toLowerCase().startsWith(needle))
  );
}

export interface SearchResult {
  /** newest start first, at most `limit` */
  rows: StoredUsageRow[];
  /** rows of the whole log that match (at most MAX_COUNTED: see `capped`) */
  matches: number;
  capped: boolean;
  /** rows in the log */
  total: number;
}

/** One indexed column of few values: how to walk its values and read its rows. */
interface Column {
  name: 'logical_model' | 'provider' | 'error_type' | 'key_alias';
  next: Database.Statement;
  rows: Database.Statement;
}

/** Every query the search runs; exported so a test can check that each one uses an index. */
export const SEARCH_SQL = {
  nextValue: (c: string) => `SELECT ${c} FROM llm_usage WHERE ${c} > ? ORDER BY ${c} LIMIT 1`,
  rowsOf: (c: string) => `SELECT * FROM llm_usage WHERE ${c} = ? ORDER BY timestamp DESC LIMIT ?`,
  nextStatus: `SELECT status, http_status FROM llm_usage WHERE (status, http_status) > (?, ?) ORDER BY status, http_status LIMIT 1`,
  rowsOfStatus: `SELECT * FROM llm_usage WHERE status = ? AND http_status = ? ORDER BY timestamp DESC LIMIT ?`,
  rowsOfRequestId: `SELECT * FROM llm_usage WHERE request_id >= ? AND request_id < ? LIMIT ?`,
  total: `SELECT coalesce(sum(requests), 0) FROM llm_usage_minute`,
} as const;

const COLUMNS = ['logical_model', 'provider', 'error_type', 'key_alias'] as const;
/** Sorts after every string that starts with the prefix (the highest code point). */
const PREFIX_END = '\u{10ffff}';

export class UsageSearch {
  private readonly columns: Column[];
  private readonly qNextStatus: Database.Statement;
  private readonly qRowsOfStatus: Database.Statement;
  private readonly qRowsOfId: Database.Statement;
  private readonly qTotal: Database.Statement;

  constructor(private readonly db: Db) {
    this.columns = COLUMNS.map((name) => ({ name, next: db.prepare(SEARCH_SQL.nextValue(name)).pluck(), rows: db.prepare(SEARCH_SQL.rowsOf(name)) }));
    this.qNextStatus = db.prepare(SEARCH_SQL.nextStatus).raw();
    this.qRowsOfStatus = db.prepare(SEARCH_SQL.rowsOfStatus);
    this.qRowsOfId = db.prepare(SEARCH_SQL.rowsOfRequestId);
    this.qTotal = db.prepare(SEARCH_SQL.total).pluck();
  }

  /** Rows in the log, from the per-minute rollup the triggers keep exact. */
  total(): number {
    return (this.qTotal.get() as number | null) ?? 0;
  }

  /** The newest `limit` rows that match `text`, and how many match in all. */
  search(text: string, limit: number): SearchResult {
    const needle = normalizeFilter(text);
    const parts: Array<{ sql: string; args: unknown[] }> = [];
    const found = new Map<number, StoredUsageRow>();
    const take = (rows: StoredUsageRow[]) => rows.forEach((r) => found.set(r.id, r));
    for (const c of this.columns) {
      const values = this.values(c.next).filter((v) => rowMatches({ [c.name]: v }, needle));
      for (const v of values) take(c.rows.all(v, limit) as StoredUsageRow[]);
      if (values.length > 0) parts.push({ sql: `SELECT id FROM llm_usage WHERE ${c.name} IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(values)] });
    }
    const statuses = this.statusValues().filter(([status, http]) => rowMatches({ status: status as StoredUsageRow['status'], http_status: http }, needle));
    for (const [status, http] of statuses) take(this.qRowsOfStatus.all(status, http, limit) as StoredUsageRow[]);
    if (statuses.length > 0) {
      parts.push({
        sql: `SELECT id FROM llm_usage WHERE (status, http_status) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
        args: [JSON.stringify(statuses)],
      });
    }
    // ids are matched from their start, as typed and in lower case (ids are mostly lower case)
    for (const prefix of new Set([text.trim(), needle])) {
      if (prefix === '') continue;
      take(this.qRowsOfId.all(prefix, prefix + PREFIX_END, limit) as StoredUsageRow[]);
      parts.push({ sql: 'SELECT id FROM llm_usage WHERE request_id >= ? AND request_id < ?', args: [prefix, prefix + PREFIX_END] });
    }
    const rows = [...found.values()].filter((r) => rowMatches(r, needle));
    rows.sort(byStartDesc);
    const { matches, capped } = this.count(parts);
    return { rows: rows.slice(0, limit), matches, capped, total: this.total() };
  }

  /** Distinct values of a column in index order, one lookup each. */
  private values(next: Database.Statement): string[] {
    const out: string[] = [];
    let v = next.get('') as string | undefined;
    while (typeof v === 'string' && out.length < MAX_VALUES) {
      out.push(v);
      v = next.get(v) as string | undefined;
    }
    return out;
  }

  private statusValues(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    let at: [string, number] = ['', -Number.MAX_VALUE];
    for (;;) {
      const r = this.qNextStatus.get(at[0], at[1]) as [string, number] | undefined;
      if (!r || out.length >= MAX_VALUES) return out;
      out.push(r);
      at = r;
    }
  }

  /** Matching rows, each once even when several columns match it, counted up to MAX_COUNTED. */
  private count(parts: Array<{ sql: string; args: unknown[] }>): { matches: number; capped: boolean } {
    if (parts.length === 0) return { matches: 0, capped: false };
    // each part stops at the cap, so a filter matching millions of rows costs a bounded union
    const capped = parts.map((p) => `SELECT * FROM (${p.sql} LIMIT ${MAX_COUNTED + 1})`);
    const sql = `SELECT count(*) FROM (${capped.join(' UNION ')})`;
    const n = this.db.prepare(sql).pluck().get(...parts.flatMap((p) => p.args)) as number;
    return { matches: Math.min(n, MAX_COUNTED), capped: n > MAX_COUNTED };
  }
}

/** Newest start first; the same start: the later id first. */
export function byStartDesc(a: StoredUsageRow, b: StoredUsageRow): number {
  return a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : b.id - a.id;
}
