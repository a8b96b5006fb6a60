// Live spend of every configured budget, in memory: one SpendWindow per budget, seeded from the
// usage log, plus the estimates reserved by requests in flight. Everything a request does here
// is a map lookup and a few additions.
import { budgetKey, type BudgetEntry, type BudgetScope, type BudgetStatus } from '../../config/schema.js';
import type { KeySpendBucket } from '../../usage/key-spend.js';
import { MINUTE_MS, toBudgetStatus, type SeedQuery, type SpendBucketRow, type SpendSeed } from '../../usage/spend.js';
import { boundedUsd, bucketMsFor, minuteAligned, SpendWindow } from './window.js';

export interface TrackedBudget {
  readonly entry: BudgetEntry;
  /** `scope:target`, stable across reloads (reservations are keyed by it) */
  readonly key: string;
  readonly labels: { scope: BudgetScope; target: string };
  readonly window: SpendWindow;
}

/** What to read from the usage log to fill these budgets' windows. */
export function seedQueryFor(entries: readonly BudgetEntry[], nowMs: number, afterId: number): SeedQuery {
  let longest = 0;
  let longestRaw = 0;
  let rawGranularity = Infinity;
  for (const e of entries) {
    const w = e.window_seconds * 1000;
    const b = bucketMsFor(w);
    // one bucket more than the window: the window's conservative edge
    longest = Math.max(longest, w + b);
    if (!minuteAligned(b)) {
      longestRaw = Math.max(longestRaw, w + b);
      rawGranularity = Math.min(rawGranularity, b);
    }
  }
  return {
    sinceMs: nowMs - longest,
    rawSinceMs: longestRaw > 0 ? nowMs - longestRaw : null,
    rawGranularityMs: Number.isFinite(rawGranularity) ? rawGranularity : MINUTE_MS,
    afterId,
  };
}

export class BudgetTracker {
  readonly all: readonly TrackedBudget[];
  private readonly byScope: Record<BudgetScope, Map<string, TrackedBudget>> = {
    provider: new Map(),
    model: new Map(),
    capability: new Map(),
    key: new Map(),
  };

  /** `reserved` outlives a tracker: requests in flight across a reload still hold their estimates. */
  /** budgets whose window is new here and must be filled from the log */
  readonly unseeded: readonly TrackedBudget[];

  /**
   * `reserved` outlives a tracker: requests in flight across a reload still hold their
   * estimates. A budget whose scope, target and window are unchanged from `previous` keeps its
   * live window (it already holds the log's spend plus everything settled since); only new or
   * changed ones need seeding.
   */
  constructor(
    entries: readonly BudgetEntry[],
    nowMs: number,
    private readonly reserved: Map<string, number>,
    previous?: BudgetTracker,
  ) {
    const all: TrackedBudget[] = [];
    const unseeded: TrackedBudget[] = [];
    for (const entry of entries) {
      const old = previous?.get(entry.scope, entry.target);
      const keep = old !== undefined && old.entry.window_seconds === entry.window_seconds;
      const b: TrackedBudget = {
        entry,
        key: budgetKey(entry.scope, entry.target),
        labels: { scope: entry.scope, target: entry.target },
        window: keep ? old.window : new SpendWindow(entry.window_seconds * 1000, nowMs),
      };
      all.push(b);
      if (!keep) unseeded.push(b);
      this.byScope[entry.scope].set(entry.target, b);
    }
    this.all = all;
    this.unseeded = unseeded;
  }

  get size(): number {
    return this.all.length;
  }

  get(scope: BudgetScope, target: string | null | undefined): TrackedBudget | undefined {
    return target == null ? undefined : this.byScope[scope].get(target);
  }

  /**
   * Loads spend read from the usage log into the budgets that need it (`unseeded`): whole
   * minutes where a budget's buckets are whole minutes, the finer raw buckets otherwise. A
   * bucket's spend is placed at its last millisecond, so when a seed bucket straddles two of a
   * budget's buckets it expires late (counted a little longer), never early.
   */
  seed(seed: SpendSeed, nowMs: number): void {
    const fromMinutes = new Set<TrackedBudget>();
    const fromRaw = new Set<TrackedBudget>();
    for (const b of this.unseeded) (minuteAligned(b.window.bucketMs) ? fromMinutes : fromRaw).add(b);
    const load = (rows: readonly SpendBucketRow[], wanted: Set<TrackedBudget>) => {
      if (wanted.size === 0) return;
      for (const r of rows) {
        const at = r.bucket_ms + r.width_ms - 1;
        for (const b of [this.get('provider', r.provider), this.get('model', r.logical_model), this.get('capability', r.capability)]) {
          if (b && wanted.has(b)) b.window.add(at, r.cost_usd, nowMs);
        }
      }
    };
    load(seed.minutes, fromMinutes);
    load(seed.raw, fromRaw);
  }

  /** Loads a key budget's spend read from the log's key_alias index, like seed() does for the others. */
  seedKey(rows: readonly KeySpendBucket[], nowMs: number): void {
    const wanted = new Set(this.unseeded);
    for (const r of rows) {
      const b = this.get('key', r.alias);
      if (b && wanted.has(b)) b.window.add(r.bucket_ms + r.width_ms - 1, r.cost_usd, nowMs);
    }
  }

  spend(b: TrackedBudget, nowMs: number): number {
    return b.window.spend(nowMs);
  }

  reservedFor(b: TrackedBudget): number {
    return this.reserved.get(b.key) ?? 0;
  }

  /**
   * Spend plus what requests in flight may still add: what a `block` budget admits against.
   * Invariant: finite and >= spend >= 0, because every amount entered through boundedUsd. Checked
   * anyway, failing closed: a sum that is not a finite number blocks rather than admits
   * (`committed >= max` is false for NaN, which is how one Infinity once opened a budget).
   */
  committed(b: TrackedBudget, nowMs: number): number {
    const c = b.window.spend(nowMs) + this.reservedFor(b);
    return Number.isFinite(c) ? c : Number.MAX_VALUE;
  }

  /** Holds an estimate for a request in flight; returns the amount held (release exactly that). */
  reserve(key: string, usd: number): number {
    const amount = boundedUsd(usd);
    if (amount > 0) this.reserved.set(key, (this.reserved.get(key) ?? 0) + amount);
    return amount;
  }

  release(key: string, usd: number): void {
    const left = (this.reserved.get(key) ?? 0) - boundedUsd(usd);
    // float residue below a micro-dollar is zero: nothing is in flight any more
    if (!(left >= 1e-9)) this.reserved.delete(key);
    else this.reserved.set(key, left);
  }

  /** Records a finished request's cost on every budget it falls under; returns those budgets. */
  charge(
    provider: string | null,
    model: string | null,
    capability: string | null,
    atMs: number,
    usd: number,
    nowMs: number,
    keyAlias: string | null = null,
  ): TrackedBudget[] {
    const hit: TrackedBudget[] = [];
    for (const b of [this.get('provider', provider), this.get('model', model), this.get('capability', capability), this.get('key', keyAlias)]) {
      if (!b) continue;
      b.window.add(atMs, usd, nowMs);
      hit.push(b);
    }
    return hit;
  }

  status(nowMs: number): BudgetStatus[] {
    return this.all.map((b) => toBudgetStatus(b.entry, b.window.spend(nowMs)));
  }
}
