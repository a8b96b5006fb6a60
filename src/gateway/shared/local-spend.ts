// The budget tracker seen by the shared layer: this gateway's own spend, bucket by bucket, in the
// same buckets its local windows use, so what it publishes is exactly what it enforces on.
import type { BudgetEntry } from '../../config/schema.js';
import type { BudgetTracker, TrackedBudget } from '../budget/tracker.js';

/** What the budget tracker lends the shared layer: its own spend, bucket by bucket. */
export interface LocalSpend {
  /** the budgets now configured */
  entries(): readonly BudgetEntry[];
  /** one budget's own buckets and their shape; undefined when it is not configured */
  window(entry: BudgetEntry): { bucketMs: number; slots: number } | undefined;
  /** own non-empty buckets of a budget in its window, [index, usd] */
  buckets(entry: BudgetEntry, nowMs: number): Array<[number, number]>;
  /** own spend in one bucket */
  bucketSpend(entry: BudgetEntry, idx: number, nowMs: number): number;
  /** own spend plus own reservations of a budget */
  committed(entry: BudgetEntry, nowMs: number): number;
}

export function localSpendOf(current: () => BudgetTracker): LocalSpend {
  const find = (e: BudgetEntry): TrackedBudget | undefined => {
    const b = current().get(e.scope, e.target);
    // a budget whose window changed in a reload is another budget in Redis
    return b && b.entry.window_seconds === e.window_seconds ? b : undefined;
  };
  return {
    entries: () => current().all.map((b) => b.entry),
    window: (e) => {
      const b = find(e);
      return b ? { bucketMs: b.window.bucketMs, slots: b.window.slots } : undefined;
    },
    buckets: (e, nowMs) => find(e)?.window.buckets(nowMs) ?? [],
    bucketSpend: (e, idx, nowMs) => find(e)?.window.bucketSpend(idx, nowMs) ?? 0,
    committed: (e, nowMs) => {
      const b = find(e);
      return b ? current().committed(b, nowMs) : 0;
    },
  };
}
