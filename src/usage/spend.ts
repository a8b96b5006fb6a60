// Budget spend read from the usage log (SPEC §9): the log is the source of truth, so spend
// survives restarts. Two readers: the gateway seeds its in-memory tracker with one grouped
// range query at start and on reload; the dashboard, when no gateway answers, asks for exact
// per-budget sums. Rows whose cost is negative, or NULL on a success, are not spend (a bug or a
// hand edit wrote them) and are counted instead, so an operator can see they exist.
import type { BudgetEntry, BudgetScope, BudgetStatus } from '../config/schema.js';
import type { Db } from './db.js';

/** Spend of one (provider, model, capability) combination in one time bucket. */
export interface SpendBucketRow {
  provider: string | null;
  logical_model: string | null;
  capability: string | null;
  /** bucket start, epoch ms */
  bucket_ms: number;
  cost_usd: number;
}

export interface SpendSeed {
  rows: SpendBucketRow[];
  /** rows with id > afterId that carry a negative cost, or no cost on a success */
  invalidRows: number;
  /** the highest row id in the log when read (the next seed counts invalid rows after it) */
  maxId: number;
}

const INVALID_COST = `(cost_usd < 0 OR (cost_usd IS NULL AND status = 'success'))`;

// ISO 8601 timestamps with ms in UTC compare as strings, so the range uses idx_llm_usage_ts.
// julianday() turns the text into epoch ms only for the rows in range.
const SEED_SQL = `
  SELECT provider, logical_model, capability,
         CAST((julianday(timestamp) - 2440587.5) * 86400000.0 / @granularity AS INTEGER) * @granularity AS bucket_ms,
         SUM(CASE WHEN cost_usd > 0 THEN cost_usd ELSE 0 END) AS cost_usd,
         SUM(CASE WHEN id > @afterId AND ${INVALID_COST} THEN 1 ELSE 0 END) AS invalid
  FROM llm_usage
  WHERE timestamp >= @since
  GROUP BY provider, logical_model, capability, bucket_ms`;

/**
 * Spend since `sinceMs`, summed per (provider, model, capability) in buckets of
 * `granularityMs`, in one indexed range query. Invalid-cost rows are counted only when their id
 * is above `afterId`, so reseeding on every reload does not count the same rows again.
 */
export function readSpendSeed(db: Db, sinceMs: number, granularityMs: number, afterId = 0): SpendSeed {
  const granularity = Math.max(1, Math.floor(granularityMs));
  const raw = db.prepare(SEED_SQL).all({ since: new Date(sinceMs).toISOString(), granularity, afterId }) as Array<
    SpendBucketRow & { invalid: number }
  >;
  let invalidRows = 0;
  const rows: SpendBucketRow[] = [];
  for (const r of raw) {
    invalidRows += r.invalid;
    if (r.cost_usd > 0) rows.push({ provider: r.provider, logical_model: r.logical_model, capability: r.capability, bucket_ms: r.bucket_ms, cost_usd: r.cost_usd });
  }
  const maxId = (db.prepare('SELECT MAX(id) AS m FROM llm_usage').get() as { m: number | null }).m ?? 0;
  return { rows, invalidRows, maxId };
}

/** The usage-log column a budget scope filters on. */
export const SCOPE_COLUMN: Record<BudgetScope, 'provider' | 'logical_model' | 'capability'> = {
  provider: 'provider',
  model: 'logical_model',
  capability: 'capability',
};

/** Exact spend of one budget over (now - window, now]: a covering-index range sum. */
export function budgetSpend(db: Db, budget: BudgetEntry, nowMs: number): number {
  const col = SCOPE_COLUMN[budget.scope];
  const row = db
    .prepare(`SELECT SUM(cost_usd) AS s FROM llm_usage WHERE ${col} = ? AND timestamp > ? AND timestamp <= ? AND cost_usd > 0`)
    .get(budget.target, new Date(nowMs - budget.window_seconds * 1000).toISOString(), new Date(nowMs).toISOString()) as {
    s: number | null;
  };
  return row.s ?? 0;
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
