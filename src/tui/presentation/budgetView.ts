// Budget rows as the panel shows them: how full, which colour, and when the budget runs out
// if the last hour's spending goes on.
import type { BudgetStatus } from '../../config/schema.js';
import type { Tone } from '../contexts/ThemeContext.js';

/** Where the figures came from: the gateway's live counters, or summed from the usage log. */
export type BudgetSourceKind = 'gateway' | 'log' | null;

export interface BudgetRow extends BudgetStatus {
  /** spend of this budget's scope over the last hour; null when unknown */
  lastHourSpendUsd: number | null;
}

export function budgetFraction(b: BudgetStatus): number {
  return b.max_budget_usd > 0 ? b.spend_usd / b.max_budget_usd : 0;
}

/** Exceeded means spend >= max; yellow from 80 %. */
export function budgetTone(b: BudgetStatus): Tone {
  const f = budgetFraction(b);
  if (b.exceeded || f >= 1) return 'bad';
  if (f >= 0.8) return 'warn';
  return 'ok';
}

/** Seconds until the remaining budget is spent at the last hour's rate; null when not spending. */
export function runsOutInSeconds(b: BudgetRow): number | null {
  if (b.lastHourSpendUsd === null || b.lastHourSpendUsd <= 0) return null;
  const remaining = Math.max(0, b.max_budget_usd - b.spend_usd);
  return remaining / (b.lastHourSpendUsd / 3600);
}

/** Most urgent first: exceeded, then fullest. */
export function sortBudgets(rows: readonly BudgetRow[]): BudgetRow[] {
  return [...rows].sort((a, b) => budgetFraction(b) - budgetFraction(a) || a.target.localeCompare(b.target));
}
