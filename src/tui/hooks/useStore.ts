import { useSyncExternalStore } from 'react';
import type { Store } from '../../system/store.js';
import { useSources, type DashboardSources } from '../contexts/SourcesContext.js';

/**
 * The frame time (ms), re-rendering the caller on every frame of the session's FrameClock.
 * Only the App calls it: one subscription, so one render per frame.
 */
export function useFrame(): number {
  const { frame } = useSources();
  return useSyncExternalStore(frame.subscribe, frame.getSnapshot, frame.getSnapshot);
}

type StoreKey = { [K in keyof DashboardSources]: DashboardSources[K] extends Store<unknown> ? K : never }[keyof DashboardSources];
type ValueOf<S> = S extends Store<infer T> ? T : never;

/**
 * The current value of one of the session's stores, read while rendering. It does not
 * subscribe: the frame clock follows every store and redraws once for all of them, and the
 * App's useFrame is what schedules that redraw.
 */
export function useCurrentValue<K extends StoreKey>(key: K): ValueOf<DashboardSources[K]> {
  return (useSources()[key] as Store<ValueOf<DashboardSources[K]>>).getSnapshot();
}
