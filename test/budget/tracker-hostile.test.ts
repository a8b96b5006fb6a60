// Budget arithmetic can never become NaN or Infinity, whatever reaches the tracker: hostile
// amounts (±Infinity, NaN, -0, huge, negative, denormal), hostile times, in any order. And
// hostile input can never undo spend that was really charged, so a spent `block` budget stays
// blocked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BudgetEntry } from '../../src/config/schema.js';
import { BudgetTracker } from '../../src/gateway/budget/tracker.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const ENTRIES: BudgetEntry[] = [
  { scope: 'model', target: 'm', max_budget_usd: 0.05, budget_window: '1h', window_seconds: 3600, action: 'block' },
  { scope: 'provider', target: 'p', max_budget_usd: 1, budget_window: '1d', window_seconds: 86_400, action: 'block' },
  { scope: 'capability', target: 'c', max_budget_usd: 10, budget_window: '30s', window_seconds: 30, action: 'warn' },
];

const hostile = fc.oneof(
  fc.constantFrom(Infinity, -Infinity, NaN, -0, 0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308, 1e-300),
  fc.double(),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer(),
);
const hostileTime = fc.oneof(hostile, fc.integer({ min: -86_400_000, max: 86_400_000 }).map((d) => T0 + d));

type Op =
  | { op: 'reserve'; key: number; usd: number }
  | { op: 'release'; key: number; usd: number }
  | { op: 'charge'; at: number; usd: number; now: number }
  | { op: 'seed'; bucket: number; usd: number; now: number }
  | { op: 'read'; now: number };

/** Operations whose clock readings come from `now`. */
const opsAt = (now: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ op: fc.constant('reserve' as const), key: fc.nat(2), usd: hostile }),
    fc.record({ op: fc.constant('release' as const), key: fc.nat(2), usd: hostile }),
    fc.record({ op: fc.constant('charge' as const), at: hostileTime, usd: hostile, now }),
    fc.record({ op: fc.constant('seed' as const), bucket: hostileTime, usd: hostile, now }),
    fc.record({ op: fc.constant('read' as const), now }),
  );
const ops = opsAt(hostileTime);

function fresh(): BudgetTracker {
  return new BudgetTracker(ENTRIES, T0, new Map());
}

function apply(t: BudgetTracker, o: Op): void {
  const key = t.all[o.op === 'reserve' || o.op === 'release' ? o.key : 0]!.key;
  switch (o.op) {
    case 'reserve':
      t.reserve(key, o.usd);
      break;
    case 'release':
      t.release(key, o.usd);
      break;
    case 'charge':
      t.charge('p', 'm', 'c', o.at, o.usd, o.now);
      break;
    case 'seed':
      t.seed(
        { minutes: [{ provider: 'p', logical_model: 'm', capability: 'c', bucket_ms: o.bucket, width_ms: 60_000, cost_usd: o.usd }], raw: [], invalidRows: 0, maxId: 0 },
        o.now,
      );
      break;
    case 'read':
      for (const b of t.all) t.committed(b, o.now);
      break;
  }
}

function expectSound(t: BudgetTracker, now: number): void {
  for (const b of t.all) {
    const spend = t.spend(b, now);
    const reserved = t.reservedFor(b);
    const committed = t.committed(b, now);
    expect(Number.isFinite(spend) && spend >= 0, `spend ${spend}`).toBe(true);
    expect(Number.isFinite(reserved) && reserved >= 0, `reserved ${reserved}`).toBe(true);
    expect(Number.isFinite(committed) && committed >= spend, `committed ${committed}`).toBe(true);
    for (const s of t.status(now)) {
      expect(Number.isFinite(s.spend_usd) && Number.isFinite(s.remaining_usd)).toBe(true);
    }
  }
}

describe('budget tracker under hostile values (property-based)', () => {
  it('spend, reservations and committed stay finite and non-negative after any sequence', () => {
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 40 }), hostileTime, (seq, end) => {
        const t = fresh();
        for (const o of seq) {
          apply(t, o);
          expectSound(t, T0);
        }
        expectSound(t, end);
      }),
      { numRuns: 500 },
    );
  });

  it('hostile operations never undo real spend: a spent block budget stays blocked', () => {
    // Times here stay inside the hour the charge counts for (or are not numbers at all): spend
    // that leaves the window by the clock is expiry, not loss.
    const within = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity), fc.integer({ min: -3_000_000, max: 0 }).map((d) => T0 + d));
    const nearOps = opsAt(within);
    fc.assert(
      fc.property(fc.array(nearOps, { maxLength: 30 }), (seq) => {
        const t = fresh();
        const model = t.get('model', 'm')!;
        // A real charge that spends the budget, at the current time.
        t.charge('p', 'm', 'c', T0, 0.05, T0);
        for (const o of seq) {
          // hostile operations at any time, then read back at the charge's own time
          apply(t, o);
          expect(t.spend(model, T0)).toBeGreaterThanOrEqual(0.05 - 1e-12);
          expect(t.committed(model, T0) >= model.entry.max_budget_usd - 1e-12).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('an Infinity reserved and released leaves a usable budget (the 1e309 reproduction, at the tracker)', () => {
    const t = fresh();
    const b = t.get('model', 'm')!;
    t.reserve(b.key, Infinity);
    t.release(b.key, Infinity);
    expect(t.reservedFor(b)).toBe(0);
    t.charge('p', 'm', 'c', T0, 0.06, T0);
    expect(t.committed(b, T0) >= b.entry.max_budget_usd).toBe(true);
  });
});
