import { useSyncExternalStore } from 'react';
import type { Store } from '../data/store.js';

/** Re-render only when the store's snapshot changes identity. */
export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
