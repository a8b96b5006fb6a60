// Finding usage-log rows by a piece of text (the console's `/` filter on Requests), through
// indexes only, so it costs the same at 10 M rows as at 10. The text is matched literally and
// ignoring case against the model, provider, status (`success`/`error`, shown as ok/err, and
// the HTTP status), error type and key alias, and against the start of the request id. The
// first five hold few distinct values, matched here in JavaScript (no LIKE, no pattern syntax,
// so `%`, `_`, `.*` or `[` are only characters): statuses, error types and key aliases are
// walked through their index one at a time (a skip scan, a lookup each) and the matches' rows
// read newest first through it; providers and models come from the per-minute rollup, which
// also says in which minutes they had requests (read through the time index) and how many.
// Request ids are unique, so they are found by prefix through their own index.
import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import type { StoredUsageRow } from './schema.js';

/** What a row is matched on; a filter is a piece of text found in one of these. */
type Searched = Pick<StoredUsageRow, 'logical_model' | 'provider' | 'status' | 'http_status' | 'error_type' | 'key_alias' | 'request_id'>;

export const MAX_FILTER_CHARS = 200;
/** Distinct values read per column before giving up on the rest (they are not few after all). */
const MAX_VALUES = 2000;
/** Matches are counted exactly up to this many; more reads as "at least". */
export const MAX_COUNTED = 10_000;

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

/** A matching row as the indexes give it: enough to pick the newest. */
type Candidate = Pick<StoredUsageRow, 'id' | 'timestamp'>;

/** One indexed column of few values: how to walk its values and read its rows. */
interface Column {
  name: 'error_type' | 'key_alias';
  next: Database.Statement;
  rows: Database.Statement;
}

const IN_JSON = 'IN (SELECT value FROM json_each(?))';
/** Rows whose provider or logical model is one of two JSON lists. */
const PROVIDER_OR_MODEL = `(provider ${IN_JSON} OR logical_model ${IN_JSON})`;

/** Every query the search runs; exported so a test can check that each one uses an index. */
export const SEARCH_SQL = {
  nextValue: (c: string) => `SELECT ${c} FROM llm_usage WHERE ${c} > ? ORDER BY ${c} LIMIT 1`,
  // candidates are read as (id, timestamp) from the indexes alone; only the newest `limit` rows whole
  rowsOf: (c: string) => `SELECT id, timestamp FROM llm_usage WHERE ${c} = ? ORDER BY timestamp DESC LIMIT ?`,
  // two steps: a row value (status, http_status) > (?, ?) would seek the status only, then read
  // every row of it
  nextStatus: `SELECT status FROM llm_usage WHERE status > ? ORDER BY status LIMIT 1`,
  nextHttpStatus: `SELECT http_status FROM llm_usage WHERE status = ? AND http_status > ? ORDER BY http_status LIMIT 1`,
  rowsOfStatus: `SELECT id, timestamp FROM llm_usage WHERE status = ? AND http_status = ? ORDER BY timestamp DESC LIMIT ?`,
  rowsOfRequestId: `SELECT id, timestamp FROM llm_usage WHERE request_id >= ? AND request_id < ? LIMIT ?`,
  rowsById: `SELECT * FROM llm_usage WHERE id ${IN_JSON}`,
  total: `SELECT coalesce(sum(requests), 0) FROM llm_usage_minute`,
  // providers and models come from the per-minute rollup (its combinations are few), which also
  // says in which minutes they had requests and how many: rows are read minute by minute,
  // newest first, through the time index, and counted exactly without touching llm_usage
  providerModelPairs: `SELECT DISTINCT provider, logical_model FROM llm_usage_minute`,
  minutesOf: `SELECT minute FROM llm_usage_minute WHERE ${PROVIDER_OR_MODEL} GROUP BY minute ORDER BY minute DESC`,
  rowsInMinute: `SELECT id, timestamp FROM llm_usage WHERE timestamp >= ? AND timestamp < ? AND ${PROVIDER_OR_MODEL}`,
  countOf: `SELECT coalesce(sum(requests), 0) FROM llm_usage_minute WHERE ${PROVIDER_OR_MODEL}`,
} as const;

const COLUMNS = ['error_type', 'key_alias'] as const;
/** Sorts after every string that starts with the prefix (the highest code point). */
const PREFIX_END = '\u{10ffff}';
/** After every timestamp of a minute 'YYYY-MM-DDTHH:MM' (';' follows ':'). */
const MINUTE_END = ';';
/** The rollup's providers and models are read again at most this often. */
const PAIRS_TTL_MS = 5000;

export class UsageSearch {
  private readonly columns: Column[];
  private readonly q: { [K in Exclude<keyof typeof SEARCH_SQL, 'nextValue' | 'rowsOf'>]: Database.Statement };
  private pairs: { at: number; providers: string[]; models: string[] } | null = null;

  constructor(private readonly db: Db) {
    this.columns = COLUMNS.map((name) => ({ name, next: db.prepare(SEARCH_SQL.nextValue(name)).pluck(), rows: db.prepare(SEARCH_SQL.rowsOf(name)) }));
    this.q = {
      nextStatus: db.prepare(SEARCH_SQL.nextStatus).pluck(),
      nextHttpStatus: db.prepare(SEARCH_SQL.nextHttpStatus).pluck(),
      rowsOfStatus: db.prepare(SEARCH_SQL.rowsOfStatus),
      rowsOfRequestId: db.prepare(SEARCH_SQL.rowsOfRequestId),
      rowsById: db.prepare(SEARCH_SQL.rowsById),
      total: db.prepare(SEARCH_SQL.total).pluck(),
      providerModelPairs: db.prepare(SEARCH_SQL.providerModelPairs).raw(),
      minutesOf: db.prepare(SEARCH_SQL.minutesOf).pluck(),
      rowsInMinute: db.prepare(SEARCH_SQL.rowsInMinute),
      countOf: db.prepare(SEARCH_SQL.countOf).pluck(),
    };
  }

  /** Rows in the log, from the per-minute rollup the triggers keep exact. */
  total(): number {
    return (this.q.total.get() as number | null) ?? 0;
  }

  /** The newest `limit` rows that match `text`, and how many match in all. */
  search(text: string, limit: number, nowMs = Date.now()): SearchResult {
    const needle = normalizeFilter(text);
    const parts: Array<{ sql: string; args: unknown[] }> = [];
    const found = new Map<number, Candidate>();
    const take = (rows: Candidate[]) => rows.forEach((r) => found.set(r.id, r));
    for (const c of this.columns) {
      const values = this.values(c.next).filter((v) => rowMatches({ [c.name]: v }, needle));
      for (const v of values) take(c.rows.all(v, limit) as Candidate[]);
      if (values.length > 0) parts.push({ sql: `SELECT id FROM llm_usage WHERE ${c.name} ${IN_JSON}`, args: [JSON.stringify(values)] });
    }
    const statuses = this.statusValues().filter(([status, http]) => rowMatches({ status: status as StoredUsageRow['status'], http_status: http }, needle));
    for (const [status, http] of statuses) take(this.q.rowsOfStatus.all(status, http, limit) as Candidate[]);
    if (statuses.length > 0) {
      parts.push({
        sql: `SELECT id FROM llm_usage WHERE (status, http_status) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
        args: [JSON.stringify(statuses)],
      });
    }
    // ids are matched from their start, as typed and in lower case (ids are mostly lower case)
    for (const prefix of new Set([text.trim(), needle])) {
      if (prefix === '') continue;
      take(this.q.rowsOfRequestId.all(prefix, prefix + PREFIX_END, limit) as Candidate[]);
      parts.push({ sql: 'SELECT id FROM llm_usage WHERE request_id >= ? AND request_id < ?', args: [prefix, prefix + PREFIX_END] });
    }
    const pm = this.providersAndModels(needle, nowMs);
    if (pm) this.rowsOfProvidersAndModels(pm, limit, take);
    const newest = [...found.values()].sort(byStartDesc).slice(0, limit);
    const rows = (this.q.rowsById.all(JSON.stringify(newest.map((r) => r.id))) as StoredUsageRow[]).filter((r) => rowMatches(r, needle));
    rows.sort(byStartDesc);
    const { matches, capped } = this.count(parts, pm);
    return { rows, matches, capped, total: this.total() };
  }

  /** The providers and models that match, as JSON lists for the queries; null when none does. */
  private providersAndModels(needle: string, nowMs: number): [string, string] | null {
    if (!this.pairs || nowMs - this.pairs.at > PAIRS_TTL_MS || nowMs < this.pairs.at) {
      const rows = this.q.providerModelPairs.all() as Array<[string, string]>;
      this.pairs = { at: nowMs, providers: [...new Set(rows.map((r) => r[0]))], models: [...new Set(rows.map((r) => r[1]))] };
    }
    const providers = this.pairs.providers.filter((v) => v !== '' && rowMatches({ provider: v }, needle));
    const models = this.pairs.models.filter((v) => v !== '' && rowMatches({ logical_model: v }, needle));
    return providers.length + models.length > 0 ? [JSON.stringify(providers), JSON.stringify(models)] : null;
  }

  /** The newest rows of the matching providers and models, minute by minute until `limit`. */
  private rowsOfProvidersAndModels(pm: [string, string], limit: number, take: (rows: Candidate[]) => void): void {
    let got = 0;
    for (const minute of this.q.minutesOf.iterate(...pm) as IterableIterator<string>) {
      const rows = this.q.rowsInMinute.all(minute, minute + MINUTE_END, ...pm) as Candidate[];
      take(rows);
      got += rows.length;
      if (got >= limit) break;
    }
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
    for (let status = this.q.nextStatus.get('') as string | undefined; typeof status === 'string'; status = this.q.nextStatus.get(status) as string | undefined) {
      let http = this.q.nextHttpStatus.get(status, -Number.MAX_VALUE) as number | undefined;
      while (typeof http === 'number' && out.length < MAX_VALUES) {
        out.push([status, http]);
        http = this.q.nextHttpStatus.get(status, http) as number | undefined;
      }
      if (out.length >= MAX_VALUES) break;
    }
    return out;
  }

  /**
   * Matching rows, each once even when several columns match it, counted up to MAX_COUNTED:
   * the providers' and models' rows from the rollup, plus the other columns' matches (a union,
   * each part stopped at the cap) less those among them the rollup already counted.
   */
  private count(parts: Array<{ sql: string; args: unknown[] }>, pm: [string, string] | null): { matches: number; capped: boolean } {
    const byRollup = pm ? (this.q.countOf.get(...pm) as number) : 0;
    if (byRollup > MAX_COUNTED) return { matches: MAX_COUNTED, capped: true };
    let others = 0;
    let overlap = 0;
    if (parts.length > 0) {
      const union = parts.map((p) => `SELECT * FROM (${p.sql} LIMIT ${MAX_COUNTED + 1})`).join(' UNION ');
      const args = parts.flatMap((p) => p.args);
      others = this.db.prepare(`SELECT count(*) FROM (${union})`).pluck().get(...args) as number;
      if (pm) {
        const sql = `SELECT count(*) FROM llm_usage WHERE id IN (${union}) AND ${PROVIDER_OR_MODEL}`;
        overlap = this.db.prepare(sql).pluck().get(...args, ...pm) as number;
      }
    }
    const n = byRollup + others - overlap;
    return { matches: Math.min(n, MAX_COUNTED), capped: n > MAX_COUNTED || others > MAX_COUNTED };
  }
}

/** Newest start first; the same start: the later id first. */
export function byStartDesc(a: Candidate, b: Candidate): number {
  return a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : b.id - a.id;
}
