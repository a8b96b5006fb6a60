import { useSyncExternalStore } from 'react';
import type { Store } from '../data/store.js';
import { useSources } from '../contexts/SourcesContext.js';

/**
 * The frame time (ms), re-rendering the caller on every frame of the session's FrameClock.
 * Only the App calls it: one subscription, so one render per frame.
 */
export function useFrame(): number {
  const { frame } = useSources();
  return useSyncExternalStore(frame.subscribe, frame.getSnapshot, frame.getSnapshot);
}

/**
 * A store's current value, read during a render that useFrame scheduled. It does not subscribe:
 * the frame clock follows every store and redraws once for all of them.
 */
export function useSnapshot<T>(store: Store<T>): T {
  return store.getSnapshot();
}
