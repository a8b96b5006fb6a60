import type { ServicesState } from '../../system/types.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useSnapshot } from './useStore.js';

export function useServices(): ServicesState {
  return useSnapshot(useSources().services);
}
