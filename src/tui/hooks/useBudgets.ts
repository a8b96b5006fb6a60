import type { BudgetFeedState } from '../data/budgetFeed.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useSnapshot } from './useStore.js';

export function useBudgets(): BudgetFeedState {
  return useSnapshot(useSources().budgets);
}
