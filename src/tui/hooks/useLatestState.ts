// State that key handlers read back at once. Several keys can arrive in one read and run
// before React renders again; each must see what the previous one did (`x` then `y` answers
// the question `x` asked), so the value lives in a ref and a render is requested on change.
import { useCallback, useReducer, useRef } from 'react';

export interface LatestState<T> {
  /** the value as of the last set, rendered or not */
  get(): T;
  set(next: T | ((prev: T) => T)): void;
  /** the value this render draws */
  value: T;
}

export function useLatestState<T>(initial: T): LatestState<T> {
  const ref = useRef(initial);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const get = useCallback(() => ref.current, []);
  const set = useCallback((next: T | ((prev: T) => T)) => {
    const value = typeof next === 'function' ? (next as (prev: T) => T)(ref.current) : next;
    if (Object.is(value, ref.current)) return;
    ref.current = value;
    rerender();
  }, []);
  return { get, set, value: ref.current };
}
