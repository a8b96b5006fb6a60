// Where outside data enters the console's state: every store the App reads is a mirror filled
// through here, and every action's answer comes back through here, so the one sanitiser
// (cleanText.ts) sees all of it before any panel can draw it.
import type { Store, ValueStore } from '../../system/store.js';
import { cleanData } from './cleanText.js';

/** Copy every value of a source, cleaned, into the store the App reads, from now on. */
export function mirrorInto<T>(from: Store<T>, to: ValueStore<T>): () => void {
  to.set(cleanData(from.getSnapshot()));
  return from.subscribe((value) => to.set(cleanData(value)));
}

/** An async action whose answer is shown: its result (or error message) cleaned. */
export function cleanedAction<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return cleanData(await run(...args));
    } catch (e) {
      throw new Error(cleanData(String((e as Error)?.message ?? e)));
    }
  };
}
