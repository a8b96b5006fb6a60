import type { GatewayChildState } from '../gatewayState.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useStore } from './useStore.js';

export function useGatewayChild(): GatewayChildState {
  return useStore(useSources().gateway);
}
