// Rolling-window spend for one budget as a ring of time buckets: adding and reading are O(1)
// whatever the size of the usage log; rolling forward clears the buckets that left the window.
// The window is bucket-aligned and covers between `windowMs` and `windowMs + bucketMs` of past
// spend: at the edge it errs toward counting a little more, never less, so a budget never
// undercounts what it guards.

/** Buckets per window (at most): the edge precision is 1/240 of the window (6 minutes of a day). */
export const BUCKETS_PER_WINDOW = 240;
const MIN_BUCKET_MS = 1000;

const MINUTE_MS = 60_000;

/**
 * The largest amount one add, reservation or release may carry. No request costs a billion
 * dollars: anything above is hostile input or a bug, and is held at this bound (it still
 * blocks) instead of reaching the sums as Infinity.
 */
export const MAX_AMOUNT_USD = 1e9;

/**
 * The one gate every amount passes on its way into budget arithmetic: NaN, negative, -0 and
 * -Infinity are 0 (spend never goes down by a charge), +Infinity and huge values are
 * MAX_AMOUNT_USD. With every input in [0, 1e9], sums of them stay finite and non-negative.
 */
export function boundedUsd(usd: number): number {
  if (!(usd > 0)) return 0;
  return usd < MAX_AMOUNT_USD ? usd : MAX_AMOUNT_USD;
}

/**
 * Whole seconds; whole minutes once a bucket reaches a minute (windows from 4 h up), so such a
 * budget can be seeded exactly from the usage log's per-minute rollup.
 */
export function bucketMsFor(windowMs: number): number {
  const ideal = windowMs / BUCKETS_PER_WINDOW;
  if (ideal >= MINUTE_MS) return Math.ceil(ideal / MINUTE_MS) * MINUTE_MS;
  return Math.max(MIN_BUCKET_MS, Math.ceil(ideal / MIN_BUCKET_MS) * MIN_BUCKET_MS);
}

/** True when whole minutes fill this budget's buckets exactly (seeded from the rollup). */
export function minuteAligned(bucketMs: number): boolean {
  return bucketMs % MINUTE_MS === 0;
}

export class SpendWindow {
  readonly bucketMs: number;
  private readonly sums: Float64Array;
  /** index (time / bucketMs) of the newest bucket */
  private current: number;
  private total = 0;

  constructor(
    readonly windowMs: number,
    nowMs: number,
  ) {
    this.bucketMs = bucketMsFor(windowMs);
    // one more bucket than the window spans, so the oldest partial bucket is still counted
    this.sums = new Float64Array(Math.ceil(windowMs / this.bucketMs) + 1);
    this.current = Math.floor(nowMs / this.bucketMs);
  }

  /** Spend in the window ending at nowMs. */
  spend(nowMs: number): number {
    this.roll(nowMs);
    return this.total > 0 ? this.total : 0;
  }

  /** Adds spend that happened at atMs (a request's start); spend older than the window is ignored. */
  add(atMs: number, usd: number, nowMs: number): void {
    const amount = boundedUsd(usd);
    if (amount === 0) return;
    this.roll(nowMs);
    const n = this.sums.length;
    // clock skew, a future or a non-numeric timestamp: count it now rather than in a bucket not
    // yet reached (or in no bucket at all)
    const at = Math.floor(atMs / this.bucketMs);
    const idx = at < this.current ? at : this.current;
    if (idx <= this.current - n) return;
    this.sums[idx % n] += amount;
    this.total += amount;
  }

  /** Buckets kept: the window's length in buckets plus the partial oldest one. */
  get slots(): number {
    return this.sums.length;
  }

  /** The bucket index spend at atMs is counted in (what add() uses). */
  indexFor(atMs: number, nowMs: number): number {
    this.roll(nowMs);
    return Math.min(Math.floor(atMs / this.bucketMs), this.current);
  }

  /** Spend in bucket idx; 0 once it has left the window. */
  bucketSpend(idx: number, nowMs: number): number {
    this.roll(nowMs);
    const n = this.sums.length;
    if (idx > this.current || idx <= this.current - n) return 0;
    return this.sums[idx % n];
  }

  /** Every bucket with spend in the window, as [index, spend], oldest first. */
  buckets(nowMs: number): Array<[number, number]> {
    this.roll(nowMs);
    const n = this.sums.length;
    const out: Array<[number, number]> = [];
    for (let idx = this.current - n + 1; idx <= this.current; idx++) {
      const v = this.sums[idx % n];
      if (v > 0) out.push([idx, v]);
    }
    return out;
  }

  /**
   * How long until the spend in the window drops below `limit` as its oldest buckets expire, if
   * nothing is added meanwhile: 0 when it already is, null when it never will (limit <= 0).
   */
  msUntilBelow(limit: number, nowMs: number): number | null {
    let left = this.spend(nowMs);
    if (left < limit) return 0;
    if (!(limit > 0)) return null;
    const n = this.sums.length;
    for (const [idx, usd] of this.buckets(nowMs)) {
      left -= usd;
      // bucket idx stops counting once the newest bucket is idx + n
      if (left < limit) return Math.max(0, (idx + n) * this.bucketMs - nowMs);
    }
    return null;
  }

  private roll(nowMs: number): void {
    const idx = Math.floor(nowMs / this.bucketMs);
    // `!(idx > current)` also stops a NaN or infinite clock reading, which would leave `current`
    // unusable for every later call.
    if (!(idx > this.current) || !Number.isFinite(idx)) return;
    const n = this.sums.length;
    if (idx - this.current >= n) this.sums.fill(0);
    else for (let i = this.current + 1; i <= idx; i++) this.sums[i % n] = 0;
    this.current = idx;
    // Re-summing once per bucket step (not per request) keeps float drift from adds and
    // expiries from accumulating.
    let t = 0;
    for (let i = 0; i < n; i++) t += this.sums[i];
    this.total = t;
  }
}
