// When a request refused by `block` budgets could next succeed: once every blocking budget's
// spend has rolled back under its limit (less what is reserved in flight). Null when that
// cannot be told, e.g. one of them stays over even when its whole window has passed.
import type { BudgetTracker, TrackedBudget } from './tracker.js';

export function retryAfterSeconds(tracker: BudgetTracker, blocked: readonly TrackedBudget[], now: number): number | null {
  let waitMs = 0;
  for (const b of blocked) {
    const ms = b.window.msUntilBelow(b.entry.max_budget_usd - tracker.reservedFor(b), now);
    if (ms === null || !Number.isFinite(ms)) return null;
    waitMs = Math.max(waitMs, ms);
  }
  return Math.max(1, Math.ceil(waitMs / 1000));
}
