import type { UsageFeedState } from '../data/usageFeed.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useSnapshot } from './useStore.js';

export function useUsage(): UsageFeedState {
  return useSnapshot(useSources().usage);
}
