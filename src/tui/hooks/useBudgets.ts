import type { BudgetFeedState } from '../data/budgetFeed.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useStore } from './useStore.js';

export function useBudgets(): BudgetFeedState {
  return useStore(useSources().budgets);
}
