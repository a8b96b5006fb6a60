import type { ConfigState } from '../data/configStore.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useSnapshot } from './useStore.js';

export function useConfig(): ConfigState {
  return useSnapshot(useSources().config);
}
