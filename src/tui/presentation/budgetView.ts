// Budget rows as the panel shows them: how full, which colour, and when the budget runs out
// if the last hour's spending goes on.
import type { BudgetStatus } from '../../config/schema.js';
import type { Tone } from '../contexts/ThemeContext.js';
import { roughDuration } from './format.js';

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

export type Forecast =
  | { kind: 'exceeded' }
  /** at the last hour's rate the window's spend passes the limit in this many seconds */
  | { kind: 'exceeds'; inSeconds: number }
  /** at the last hour's rate the window's spend stays under the limit */
  | { kind: 'holds' }
  | { kind: 'idle' }
  | { kind: 'unknown' };

/**
 * Where a rolling window's spend goes at the last hour's rate r: it tends to r·W over a window
 * of length W, so it exceeds the limit only when r·W does, and then within one window at most.
 * (Old spend leaving the window only delays that: the time shown is the earliest.)
 */
export function forecast(b: BudgetRow): Forecast {
  if (b.exceeded || budgetFraction(b) >= 1) return { kind: 'exceeded' };
  if (b.lastHourSpendUsd === null || !Number.isFinite(b.lastHourSpendUsd)) return { kind: 'unknown' };
  if (b.lastHourSpendUsd <= 0) return { kind: 'idle' };
  const ratePerS = b.lastHourSpendUsd / 3600;
  if (ratePerS * b.window_seconds <= b.max_budget_usd) return { kind: 'holds' };
  const inSeconds = Math.max(0, b.max_budget_usd - b.spend_usd) / ratePerS;
  return inSeconds < b.window_seconds ? { kind: 'exceeds', inSeconds } : { kind: 'holds' };
}

/** How the panel and the detail say a forecast, wide or in a narrow column. */
export function forecastText(f: Forecast, wide: boolean): string {
  switch (f.kind) {
    case 'exceeded':
      return 'EXCEEDED';
    case 'exceeds':
      return wide ? `exceeds in ${roughDuration(f.inSeconds)}` : `over ${roughDuration(f.inSeconds)}`;
    case 'holds':
      return wide ? 'holds at this rate' : 'holds';
    case 'idle':
      return wide ? 'no spend in the last hour' : '–';
    case 'unknown':
      return '–';
  }
}

/** Spend and limit with the decimals the limit needs (three significant digits): $0.0123/$0.0500. */
export function moneyPair(spend: number, max: number): string {
  const decimals = Number.isFinite(max) && max > 0 ? Math.min(6, Math.max(2, 2 - Math.floor(Math.log10(max)))) : 2;
  const f = (v: number) => (Number.isFinite(v) ? `${v < 0 ? '-' : ''}$${Math.abs(v).toFixed(decimals)}` : '–');
  return `${f(spend)}/${f(max)}`;
}

/** Most urgent first: exceeded, then fullest. */
export function sortBudgets(rows: readonly BudgetRow[]): BudgetRow[] {
  return [...rows].sort((a, b) => budgetFraction(b) - budgetFraction(a) || a.target.localeCompare(b.target));
}
