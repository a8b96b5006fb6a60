import { useRef } from 'react';
import type { HostState } from '../../system/types.js';
import { useCurrentValue } from './useStore.js';

const HISTORY = 60;

/** Host figures plus the recent CPU readings for the sparkline. */
export function useHost(): { state: HostState; cpuHistory: readonly number[] } {
  const state = useCurrentValue('host');
  const history = useRef<{ at: number | null; values: number[] }>({ at: null, values: [] });
  if (state.updatedAt !== history.current.at) {
    const values = state.cpuPct === null ? history.current.values : [...history.current.values, state.cpuPct].slice(-HISTORY);
    history.current = { at: state.updatedAt, values };
  }
  return { state, cpuHistory: history.current.values };
}
