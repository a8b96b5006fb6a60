import type { ConfigState } from '../data/configStore.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useStore } from './useStore.js';

export function useConfig(): ConfigState {
  return useStore(useSources().config);
}
