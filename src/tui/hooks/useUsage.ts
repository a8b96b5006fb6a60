import type { UsageFeedState } from '../data/usageFeed.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useStore } from './useStore.js';

export function useUsage(): UsageFeedState {
  return useStore(useSources().usage);
}
