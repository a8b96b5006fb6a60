// The one observer convention of every live data source (the system monitors, the console's
// feeds and stores): `getSnapshot()` is the current value, `subscribe(listener)` calls the
// listener with the new value on every change and returns the unsubscriber. It is the shape
// React's useSyncExternalStore takes. A ValueStore's snapshot keeps its identity until the value
// changes; a monitor builds a fresh copy on each call, so the console mirrors monitors into
// ValueStores before React reads them.
export interface Store<T> {
  getSnapshot(): T;
  subscribe(listener: (value: T) => void): () => void;
}

export class ValueStore<T> implements Store<T> {
  private listeners = new Set<(value: T) => void>();

  constructor(
    private value: T,
    private readonly equal: (a: T, b: T) => boolean = Object.is,
  ) {}

  getSnapshot = (): T => this.value;

  subscribe = (listener: (value: T) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Replace the value; listeners hear of it only when it differs, so idle ticks render nothing. */
  set(next: T): void {
    if (this.equal(this.value, next)) return;
    this.value = next;
    for (const l of this.listeners) l(next);
  }

  update(fn: (prev: T) => T): void {
    this.set(fn(this.value));
  }
}

/** Structural equality for plain data (numbers, strings, arrays, objects): cheap for our sizes. */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
