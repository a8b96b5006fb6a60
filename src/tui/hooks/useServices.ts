import type { ServicesState } from '../../system/types.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useStore } from './useStore.js';

export function useServices(): ServicesState {
  return useStore(useSources().services);
}
