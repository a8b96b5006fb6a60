// Budget spend read from the usage log (README, "Budgets"): the log is the source of truth, so spend
// survives restarts. Two readers: the gateway seeds its in-memory tracker at start and when a
// window changes, mostly from the per-minute rollup (cheap whatever the log size); the
// dashboard, when no gateway answers, asks for exact per-budget sums. Rows whose cost is negative, or NULL on a success, are not spend (a bug or a
// hand edit wrote them) and are counted instead, so an operator can see they exist.
import type { BudgetEntry, ConfigBudgetScope, BudgetStatus } from '../config/schema.js';
import type { Db } from './db.js';
import { keySpend } from './key-spend.js';

/** Spend of one (provider, model, capability) combination in one time bucket. */
export interface SpendBucketRow {
  provider: string | null;
  logical_model: string | null;
  capability: string | null;
  /** bucket start, epoch ms */
  bucket_ms: number;
  /** bucket length: 60 000 for rows from the minute rollup, the requested granularity for raw rows */
  width_ms: number;
  cost_usd: number;
}

export interface SpendSeed {
  /** whole minutes from the rollup, since `sinceMs` */
  minutes: SpendBucketRow[];
  /** finer buckets from the request rows, since `rawSinceMs` (empty when not asked for) */
  raw: SpendBucketRow[];
  /** rows with id > afterId that carry a negative cost, or no cost on a success */
  invalidRows: number;
  /** the highest row id in the log when read (the next seed counts invalid rows after it) */
  maxId: number;
}

export interface SeedQuery {
  /** start of the longest window to fill, epoch ms */
  sinceMs: number;
  /** start of the windows that need buckets finer than a minute; null when none do */
  rawSinceMs: number | null;
  /** bucket size for the raw rows */
  rawGranularityMs: number;
  /** invalid rows are counted only above this id, so a reseed does not count them again */
  afterId: number;
}

export const MINUTE_MS = 60_000;

// Spend per minute comes from the rollup the usage log keeps with triggers: a day of traffic is
// at most a few thousand rows, whatever the request count. The rollup sums every cost, negative
// ones too, so those are read back and taken out.
const MINUTES_SQL = `
  SELECT minute, provider, logical_model, capability, cost_usd
  FROM llm_usage_minute WHERE minute >= @sinceMinute`;

// Rows with a negative or missing cost: read through the partial index that holds only them
// (schema v3), so the cost does not grow with the log. The WHERE must imply the index's own.
export const ODD_COST_SQL = `
  SELECT id, substr(timestamp, 1, 16) AS minute, provider, logical_model, capability, cost_usd, status
  FROM llm_usage INDEXED BY idx_llm_usage_odd_cost
  WHERE timestamp >= @since AND (cost_usd < 0 OR cost_usd IS NULL)`;

// ISO 8601 timestamps with ms in UTC compare as strings, so the range uses idx_llm_usage_ts;
// julianday() turns the text into epoch ms only for the rows in range. Only short windows
// (sub-minute buckets) need this, and only over their own length.
const RAW_SQL = `
  SELECT provider, logical_model, capability,
         CAST((julianday(timestamp) - 2440587.5) * 86400000.0 / @granularity AS INTEGER) * @granularity AS bucket_ms,
         SUM(CASE WHEN cost_usd > 0 THEN cost_usd ELSE 0 END) AS cost_usd
  FROM llm_usage
  WHERE timestamp >= @since
  GROUP BY provider, logical_model, capability, bucket_ms`;

/**
 * Prepares a statement that names the cost-carrying index; should a later schema drop or
 * rename it, the same query without the hint (slower, still right) instead of a failure.
 */
function prepareHinted(db: Db, sql: string) {
  try {
    return db.prepare(sql);
  } catch {
    return db.prepare(sql.replace(/ INDEXED BY \w+/g, ''));
  }
}

const orNull = (s: string) => (s === '' ? null : s);
const minuteMs = (minute: string) => Date.parse(`${minute}:00.000Z`);
const comboKey = (minute: string, p: string | null, m: string | null, c: string | null) => `${minute}\u0000${p ?? ''}\u0000${m ?? ''}\u0000${c ?? ''}`;

/**
 * Everything the gateway's budget tracker needs from the log, at start and when a window
 * changes: spend per minute since `sinceMs` (from the rollup), finer buckets since `rawSinceMs`
 * (from the request rows), both per (provider, model, capability), without negative costs.
 */
export function readSpendSeed(db: Db, q: SeedQuery): SpendSeed {
  const since = new Date(q.sinceMs).toISOString();
  let invalidRows = 0;
  const negative = new Map<string, number>();
  for (const r of prepareHinted(db, ODD_COST_SQL).all({ since }) as Array<{
    id: number;
    minute: string;
    provider: string | null;
    logical_model: string | null;
    capability: string | null;
    cost_usd: number | null;
    status: string;
  }>) {
    const bad = r.cost_usd !== null ? r.cost_usd < 0 : r.status === 'success';
    if (bad && r.id > q.afterId) invalidRows++;
    if (r.cost_usd !== null && r.cost_usd < 0) {
      const k = comboKey(r.minute, r.provider, r.logical_model, r.capability);
      negative.set(k, (negative.get(k) ?? 0) + r.cost_usd);
    }
  }

  const minutes: SpendBucketRow[] = [];
  for (const r of db.prepare(MINUTES_SQL).all({ sinceMinute: since.slice(0, 16) }) as Array<{
    minute: string;
    provider: string;
    logical_model: string;
    capability: string;
    cost_usd: number;
  }>) {
    const provider = orNull(r.provider);
    const model = orNull(r.logical_model);
    const capability = orNull(r.capability);
    const cost = r.cost_usd - (negative.get(comboKey(r.minute, provider, model, capability)) ?? 0);
    if (cost > 1e-12) {
      minutes.push({ provider, logical_model: model, capability, bucket_ms: minuteMs(r.minute), width_ms: MINUTE_MS, cost_usd: cost });
    }
  }

  const raw: SpendBucketRow[] = [];
  if (q.rawSinceMs !== null) {
    const granularity = Math.max(1, Math.floor(q.rawGranularityMs));
    for (const r of db.prepare(RAW_SQL).all({ since: new Date(q.rawSinceMs).toISOString(), granularity }) as Array<
      Omit<SpendBucketRow, 'width_ms'>
    >) {
      if (r.cost_usd > 0) raw.push({ ...r, width_ms: granularity });
    }
  }

  const maxId = (db.prepare('SELECT MAX(id) AS m FROM llm_usage').get() as { m: number | null }).m ?? 0;
  return { minutes, raw, invalidRows, maxId };
}

/** The usage-log column a budget scope filters on. */
export const SCOPE_COLUMN: Record<ConfigBudgetScope, 'provider' | 'logical_model' | 'capability'> = {
  provider: 'provider',
  model: 'logical_model',
  capability: 'capability',
};

interface NegativeRow {
  minute: string;
  provider: string | null;
  logical_model: string | null;
  capability: string | null;
  cost_usd: number;
}

/**
 * Negative-cost rows per connection, so that subtracting them from the rollup does not cost a
 * scan on every dashboard poll: the first call scans the capability index once, later calls
 * read only the rows added since (a rowid range).
 */
const negativeMemo = new WeakMap<Db, { scannedId: number; rows: NegativeRow[] }>();

function negativeRows(db: Db): NegativeRow[] {
  let memo = negativeMemo.get(db);
  const cols = `id, substr(timestamp, 1, 16) AS minute, provider, logical_model, capability, cost_usd`;
  const add = (rows: Array<NegativeRow & { id: number }>, m: { scannedId: number; rows: NegativeRow[] }) => {
    for (const r of rows) {
      m.rows.push({ minute: r.minute, provider: r.provider, logical_model: r.logical_model, capability: r.capability, cost_usd: r.cost_usd });
    }
  };
  const maxId = (db.prepare('SELECT MAX(id) AS m FROM llm_usage').get() as { m: number | null }).m ?? 0;
  if (!memo || maxId < memo.scannedId) {
    // first call, or the log was replaced under us
    memo = { scannedId: maxId, rows: [] };
    add(
      prepareHinted(
        db,
        `SELECT ${cols} FROM llm_usage INDEXED BY idx_llm_usage_odd_cost WHERE (cost_usd < 0 OR cost_usd IS NULL) AND cost_usd < 0 AND id <= ?`,
      ).all(maxId) as Array<NegativeRow & { id: number }>,
      memo,
    );
    negativeMemo.set(db, memo);
  } else if (maxId > memo.scannedId) {
    add(db.prepare(`SELECT ${cols} FROM llm_usage WHERE id > ? AND id <= ? AND cost_usd < 0`).all(memo.scannedId, maxId) as Array<NegativeRow & { id: number }>, memo);
    memo.scannedId = maxId;
  }
  return memo.rows;
}

const isoMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/**
 * Exact spend of one budget over (now - window, now], positive costs only. Whole minutes inside
 * the window come from the rollup (minus the negative rows there), the partial minutes at both
 * ends from the request rows by time (through idx_llm_usage_ts: under a minute of rows each), so
 * the cost does not grow with the rows in the window.
 */
export function budgetSpend(db: Db, budget: BudgetEntry, nowMs: number): number {
  // keys are not in the per-minute rollup; their own index answers instead
  if (budget.scope === 'key') return keySpend(db, budget.target, budget.window_seconds * 1000, nowMs);
  const col = SCOPE_COLUMN[budget.scope];
  const startMs = nowMs - budget.window_seconds * 1000;
  const firstWhole = Math.ceil(startMs / MINUTE_MS) * MINUTE_MS;
  const endWhole = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const raw = (fromMs: number, fromInclusive: boolean, toMs: number, toInclusive: boolean) =>
    (
      db
        .prepare(
          `SELECT SUM(cost_usd) AS s FROM llm_usage WHERE ${col} = ? AND timestamp ${fromInclusive ? '>=' : '>'} ? AND timestamp ${toInclusive ? '<=' : '<'} ? AND cost_usd > 0`,
        )
        .get(budget.target, new Date(fromMs).toISOString(), new Date(toMs).toISOString()) as { s: number | null }
    ).s ?? 0;
  if (endWhole <= firstWhole) return raw(startMs, false, nowMs, true);

  const m0 = isoMinute(firstWhole);
  const m1 = isoMinute(endWhole);
  const rolled =
    (db.prepare(`SELECT SUM(cost_usd) AS s FROM llm_usage_minute WHERE minute >= ? AND minute < ? AND ${col} = ?`).get(m0, m1, budget.target) as {
      s: number | null;
    }).s ?? 0;
  let negative = 0;
  for (const r of negativeRows(db)) if (r[col] === budget.target && r.minute >= m0 && r.minute < m1) negative += r.cost_usd;
  return rolled - negative + raw(startMs, false, firstWhole, false) + raw(endWhole, true, nowMs, true);
}

export function toBudgetStatus(budget: BudgetEntry, spendUsd: number): BudgetStatus {
  return {
    ...budget,
    spend_usd: spendUsd,
    remaining_usd: Math.max(0, budget.max_budget_usd - spendUsd),
    exceeded: spendUsd >= budget.max_budget_usd,
  };
}

/** Every budget with its spend straight from the log: what the dashboard shows when the gateway is down. */
export function computeBudgetStatus(db: Db, budgets: readonly BudgetEntry[], nowMs: number = Date.now()): BudgetStatus[] {
  return budgets.map((b) => toBudgetStatus(b, budgetSpend(db, b, nowMs)));
}
