// Where outside data enters the console's state: every store the App reads is a mirror filled
// through here, and every action's answer comes back through here, so the one sanitiser
// (cleanText.ts) sees all of it before any panel can draw it.
import type { Store, ValueStore } from '../../system/store.js';
import { cleanData } from './cleanText.js';

/**
 * Copy every value of a source, cleaned, into the store the App reads, from now on. A source
 * that publishes each value as new objects and never changes one afterwards (`immutable`) has
 * the parts it publishes again (the usage rows still shown) cleaned once, not on every change.
 */
export function mirrorInto<T>(from: Store<T>, to: ValueStore<T>, opts: { immutable?: boolean } = {}): () => void {
  const seen = opts.immutable ? new WeakMap<object, unknown>() : undefined;
  to.set(cleanData(from.getSnapshot(), seen));
  return from.subscribe((value) => to.set(cleanData(value, seen)));
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
