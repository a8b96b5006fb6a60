// The `/` filter applied to the lists on screen, and how a list's title says it is filtered
// (`filter: 429 · 12 of 3,400`). Text is matched literally, ignoring case: nothing in it is a
// pattern. Requests are matched by the usage log's own rule (usage/search.ts), so rows on
// screen and rows found in the log agree.
import type { ServiceState } from '../../system/types.js';
import { normalizeFilter, rowMatches } from '../../usage/search.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { BudgetRow } from './budgetView.js';
import type { UsageFeedState } from '../data/usageFeed.js';

const has = (v: unknown, needle: string) => v !== null && v !== undefined && String(v).toLowerCase().includes(needle);

export function serviceMatches(s: ServiceState, needle: string): boolean {
  return [s.unit, s.provider, s.activeState, s.subState, s.health, s.error].some((v) => has(v, needle));
}

export function budgetMatches(b: BudgetRow, needle: string): boolean {
  return [b.scope, b.target, b.action, b.budget_window, b.exceeded ? 'exceeded' : null].some((v) => has(v, needle));
}

/** The rows of a list that match its filter ('' keeps them all, as the same array). */
export function filterRows<T>(rows: readonly T[], text: string, matches: (row: T, needle: string) => boolean): readonly T[] {
  const needle = normalizeFilter(text);
  return needle === '' ? rows : rows.filter((r) => matches(r, needle));
}

export const requestMatches = (r: StoredUsageRow, needle: string) => rowMatches(r, needle);

const count = (n: number) => n.toLocaleString('en-US');

/** `filter: 429 · 12 of 3,400`; null without a filter. */
export function filterSummary(text: string, shown: number, total: number, capped = false): string | null {
  const t = text.trim();
  if (t === '') return null;
  return `filter: ${t} · ${count(shown)}${capped ? '+' : ''} of ${count(total)}`;
}

/**
 * What each list shows: its rows that match its filter, and what its title says about it.
 * Requests come from the usage log's own search once it has run for this text (counted against
 * the whole log); until then, the rows held that match.
 */
export function shownLists(
  services: readonly ServiceState[],
  budgets: readonly BudgetRow[],
  usage: UsageFeedState,
  filters: Readonly<Record<'services' | 'budgets' | 'requests', string>>,
) {
  const needle = normalizeFilter(filters.requests);
  const searched = usage.filter && usage.filter.text === needle ? usage.filter : null;
  const shown = {
    services: filterRows(services, filters.services, serviceMatches),
    budgets: filterRows(budgets, filters.budgets, budgetMatches),
    requests: searched ? searched.rows : filterRows(usage.rows, filters.requests, requestMatches),
  };
  const notes = {
    services: filterSummary(filters.services, shown.services.length, services.length),
    budgets: filterSummary(filters.budgets, shown.budgets.length, budgets.length),
    requests: searched
      ? filterSummary(filters.requests, searched.matches, searched.total, searched.capped)
      : filterSummary(filters.requests, shown.requests.length, usage.rows.length),
  };
  return { shown, notes };
}
