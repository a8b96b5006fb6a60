// Money in JSON without binary-float residue: in doubles 1 - 0.95 is 0.050000000000000044, and a
// sum of many costs drifts the same way (0.022072499999999957). Twelve significant digits keep
// every real figure (a cost is a token count times a price of a few digits) and drop the residue,
// which sits near the sixteenth digit.

/** `v` to twelve significant digits; non-finite values as they are. */
export function cleanUsd(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : v;
}

/** A JSON.stringify replacer: every number under a key ending in `_usd` goes through cleanUsd. */
export function usdReplacer(key: string, value: unknown): unknown {
  return typeof value === 'number' && key.endsWith('_usd') ? cleanUsd(value) : value;
}
