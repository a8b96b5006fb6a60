import type { GatewayChildState } from '../gatewayState.js';
import { useSources } from '../contexts/SourcesContext.js';
import { useSnapshot } from './useStore.js';

export function useGatewayChild(): GatewayChildState {
  return useSnapshot(useSources().gateway);
}
