// The gateway's side of budget leases, with the clock passed in: a request is admitted on leases
// only when every budget it touches has a live lease covering its estimate; a settled request's
// cost is owed to the lease and leaves it in the next sync; a lease asks for about a second of
// demand, gives back surplus and everything once idle, stops at its local end, and holds
// nothing once Redis lost this gateway's state. What Redis grants is the sync script's business
// (state.test.ts runs it against a real Redis).
import { describe, expect, it } from 'vitest';
import { windowSeconds, type BudgetEntry } from '../../src/config/schema.js';
import { LEASE_IDLE_MS, LEASE_TTL_MS, LeaseBook, type LeaseAsk } from '../../src/gateway/shared/leases.js';

const entry = (target: string): BudgetEntry => ({ scope: 'model', target, max_budget_usd: 100, budget_window: '1h', window_seconds: windowSeconds('1h'), action: 'block' });
const ask = (id: string, usd: number): LeaseAsk => ({ id, entry: entry(id), usd });
const T0 = 1_800_000_000_000;

/** One sync that Redis answers with `grant` for every lease that asked. */
function sync(book: LeaseBook, now: number, grant: (want: number) => number) {
  const changes = book.take(now);
  book.done(changes, changes.map((c) => (c.want > 0 ? grant(c.want) : 0)), now);
  return changes;
}

describe('budget leases (the gateway side)', () => {
  it('admits nothing before a grant; after one, admits in memory while the lease covers the estimate', () => {
    const book = new LeaseBook();
    expect(book.admit('r1', [ask('m', 0.1)], T0, T0 + 60_000)).toBe(false);
    book.noteAdmitted([ask('m', 0.1)], T0); // admitted by the exact script instead
    const [c] = sync(book, T0, (want) => want);
    // at least eight requests of the latest estimate
    expect(c).toMatchObject({ id: 'm', abs: 0, minGrant: 0.1 });
    expect(c!.want).toBeCloseTo(0.8, 9);
    expect(book.held('m')).toBeCloseTo(0.8, 9);
    let admitted = 0;
    for (let i = 0; i < 20; i++) if (book.admit(`r${i}`, [ask('m', 0.1)], T0 + 1, T0 + 60_000)) admitted++;
    expect(admitted).toBe(8);
  });

  it('needs every budget of a request covered, and holds on all of them or none', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('a', 0.1), ask('b', 0.1)], T0);
    const changes = book.take(T0);
    // only `a` is granted
    book.done(changes, changes.map((c) => (c.id === 'a' ? c.want : 0)), T0);
    expect(book.admit('r', [ask('a', 0.1), ask('b', 0.1)], T0 + 1, T0 + 60_000)).toBe(false);
    // nothing was taken from `a`: its whole lease is still free to hand back
    expect(book.giveBack('a')).toBeCloseTo(0.8, 9);
    expect(book.held('a')).toBe(0);
  });

  it('holds a request on the leases that cover it when another budget must go to the exact script', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('big', 0.1), ask('small', 0.1)], T0);
    const changes = book.take(T0);
    book.done(changes, changes.map((c) => (c.id === 'big' ? c.want : 0)), T0);
    expect(book.holdCovered('r', [ask('big', 0.1), ask('small', 0.1)], T0 + 1, T0 + 60_000)).toEqual([true, false]);
    // held on `big`: its free part shrank by the estimate
    expect(book.giveBack('big')).toBeCloseTo(0.7, 9);
    // the exact script refused: the hold ends with no cost
    expect(book.settle('r', new Set(), 0)).toEqual(new Set(['big']));
  });

  it('moves a settled cost out of the lease in the next sync, and frees what the estimate overstated', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('m', 0.1)], T0);
    sync(book, T0, () => 1);
    expect(book.admit('r1', [ask('m', 0.1)], T0 + 1, T0 + 60_000)).toBe(true);
    // costed 0.04 of the 0.1 held
    expect(book.settle('r1', new Set(['m']), 0.04)).toEqual(new Set(['m']));
    expect(book.settle('r1', new Set(['m']), 0.04)).toBeNull();
    const [c] = book.take(T0 + 2);
    expect(c!.abs).toBeCloseTo(0.96, 9);
    expect(book.held('m')).toBeCloseTo(0.96, 9);
    // a reservation that was not a lease hold is not the book's
    expect(book.settle('exact-1', new Set(['m']), 0.5)).toBeNull();
  });

  it('gives back the surplus over twice its demand, and everything once idle', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('m', 0.01)], T0);
    sync(book, T0, () => 5);
    const [surplus] = book.take(T0 + 1);
    // five granted (a generous Redis) against a target of eight requests: back to 0.08
    expect(surplus!.abs).toBeCloseTo(0.08, 9);
    expect(book.admit('r1', [ask('m', 0.01)], T0 + 2, T0 + 60_000)).toBe(true);
    expect(book.take(T0 + 3)).toEqual([]);
    const [idle] = book.take(T0 + 3 + LEASE_IDLE_MS);
    // idle: all but what the request in flight holds goes back
    expect(idle!.abs).toBeCloseTo(0.01, 9);
    expect(idle!.want).toBe(0);
  });

  it('asks for no more while an ask is out, and backs off after a refusal', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('m', 0.1)], T0);
    const first = book.take(T0);
    expect(first[0]!.want).toBeGreaterThan(0);
    expect(book.take(T0 + 1)).toEqual([]);
    book.done(first, [0], T0 + 1); // refused: the budget is near its limit
    expect(book.pending(T0 + 2)).toBe(false);
    expect(book.take(T0 + 600)[0]!.want).toBeGreaterThan(0);
  });

  it('a failed sync leaves the lease at its lowered value, and no lease is used past its local end', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('m', 0.1)], T0);
    sync(book, T0, (want) => want);
    expect(book.admit('r1', [ask('m', 0.1)], T0 + 1, T0 + 60_000)).toBe(true);
    book.settle('r1', new Set(['m']), 0.1);
    const changes = book.take(T0 + 2);
    book.done(changes, null, T0 + 2);
    expect(book.held('m')).toBeCloseTo(0.7, 9);
    // the lease was last confirmed at T0: it ends locally before Redis would drop it
    const late = T0 + LEASE_TTL_MS;
    book.noteAdmitted([ask('m', 0.1)], late - 1);
    expect(book.admit('r2', [ask('m', 0.1)], late, late + 60_000)).toBe(false);
    expect(book.take(late)[0]!.abs).toBe(0);
  });

  it('holds nothing once Redis lost this gateway\'s state, and drops holds past their deadline', () => {
    const book = new LeaseBook();
    book.noteAdmitted([ask('m', 0.1)], T0);
    sync(book, T0, (want) => want);
    expect(book.admit('r1', [ask('m', 0.1)], T0 + 1, T0 + 5_000)).toBe(true);
    book.lost();
    expect(book.held('m')).toBe(0);
    expect(book.admit('r2', [ask('m', 0.1)], T0 + 2, T0 + 60_000)).toBe(false);
    book.take(T0 + 6_000);
    // r1 never settled; past its deadline its estimate no longer counts as in flight
    expect(book.settle('r1', new Set(['m']), 0.1)).toBeNull();
  });
});
