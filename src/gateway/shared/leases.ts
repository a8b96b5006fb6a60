// Budget leases: a slice of a `block` budget's headroom that this gateway holds in the shared
// Redis, so most requests are admitted in memory, with no round trip.
//
// A lease is a reservation like a request's: Redis counts it in the budget's reserved sum (so
// the other gateways admit against what is left), it carries an expiry, and it stops counting
// when this gateway's heartbeat expires (a killed gateway's leases free within the heartbeat
// TTL). This file is the gateway's side of the books; the sync script (lease-scripts.ts) is
// Redis' side. Per budget the gateway knows:
//   held      what Redis holds for it (a lower bound: what was asked but not confirmed is not counted)
//   inflight  the estimates of requests admitted on the lease and still running
//   owed      what settled requests admitted on the lease cost, not yet moved out of the lease
// and admits while `held - inflight - owed` covers a request's estimate. A settled request's
// cost goes into this gateway's spend buckets and out of the lease in one atomic call, so the
// global spend plus reservations never counts it twice or drops it.
//
// Sizing: a lease aims at about a second of this gateway's admissions (at least a few requests),
// refilled in the background when it falls to half of that; what is beyond twice that, or
// everything after a few idle seconds, goes back. Redis grants at most the budget's headroom
// divided by twice the number of gateways, in whole requests, so near the limit grants shrink
// to nothing and admission falls back to the exact per-request script.
import type { BudgetEntry } from '../../config/schema.js';

/** A lease's expiry in Redis, renewed by every sync that carries it. */
export const LEASE_TTL_MS = 20_000;
/** Admission on a lease stops this long before Redis would expire it (clock skew, late replies). */
const LOCAL_MARGIN_MS = 5_000;
/** A lease this close to its local end is renewed at the next sync. */
const RENEW_WITHIN_MS = 8_000;
/** How much admission a lease aims to cover. */
const HORIZON_MS = 1_000;
/** ... and at least this many requests of the latest estimate. */
const MIN_REQUESTS = 8;
/** No admission for this long: the lease goes back. */
export const LEASE_IDLE_MS = 3_000;
/** After a refused or failed ask, the next waits this long (near the limit every ask is refused). */
const ASK_BACKOFF_MS = 500;
/** A budget whose requests are estimated at $0 still needs a lease above 0 to admit on. */
const MIN_LEASE_USD = 1e-6;

export interface LeaseAsk {
  /** the budget's id in Redis */
  id: string;
  entry: BudgetEntry;
  /** this request's estimate on it (0: only checked) */
  usd: number;
}

/** One lease's part of a sync: set it to `abs`, then grow it by up to `want`, in grants of `minGrant`. */
export interface LeaseChange {
  id: string;
  entry: BudgetEntry;
  abs: number;
  want: number;
  minGrant: number;
}

class Lease {
  held = 0;
  inflight = 0;
  owed = 0;
  /** local end of the lease (epoch ms): admission on it stops then */
  until = 0;
  /** exponentially decaying sum of admitted estimates (time constant HORIZON_MS) */
  private rate = 0;
  lastAt = 0;
  lastEstimate = 0;
  askAfter = 0;
  asking = false;

  constructor(public entry: BudgetEntry) {}

  get free(): number {
    return this.held - this.inflight - this.owed;
  }

  note(usd: number, now: number): void {
    this.rate = this.decayed(now) + usd;
    this.lastAt = now;
    if (usd > 0) this.lastEstimate = usd;
  }

  /** What this lease should hold beyond its requests in flight; 0 once idle. */
  target(now: number): number {
    if (now - this.lastAt > LEASE_IDLE_MS) return 0;
    return Math.max(MIN_LEASE_USD, MIN_REQUESTS * this.lastEstimate, this.decayed(now));
  }

  private decayed(now: number): number {
    return this.rate * Math.exp(-Math.max(0, now - this.lastAt) / HORIZON_MS);
  }
}

const NOTHING: ReadonlySet<string> = new Set();

interface Hold {
  /** when an unsettled hold is dropped (the request's deadline plus the margin) */
  until: number;
  parts: Array<[string, Lease, number]>;
}

export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  private readonly holds = new Map<string, Hold>();
  /** requests admitted on leases, since start */
  admitted = 0;

  /**
   * Admits a request on leases alone when every budget it touches has a live lease whose free
   * part covers its estimate there.
   */
  admit(rid: string, asks: readonly LeaseAsk[], now: number, holdUntil: number): boolean {
    if (asks.length === 0 || !asks.every((a) => this.covers(a, now))) return false;
    this.hold(rid, asks, now, holdUntil);
    this.noteAdmitted(asks, now);
    this.admitted++;
    return true;
  }

  /**
   * Holds a request's estimate on those of its budgets whose lease covers it, for a request
   * whose other budgets go to the exact script; returns which were held. `settle` (with no
   * cost when the script refused) ends the hold.
   */
  holdCovered(rid: string, asks: readonly LeaseAsk[], now: number, holdUntil: number): boolean[] {
    const covered = asks.map((a) => this.covers(a, now));
    const held = asks.filter((_, i) => covered[i]);
    if (held.length > 0) this.hold(rid, held, now, holdUntil);
    return covered;
  }

  private covers(a: LeaseAsk, now: number): boolean {
    const l = this.leases.get(a.id);
    return l !== undefined && now < l.until && l.free > 0 && l.free >= a.usd;
  }

  private hold(rid: string, asks: readonly LeaseAsk[], _now: number, holdUntil: number): void {
    const parts: Hold['parts'] = [];
    for (const a of asks) {
      const l = this.leases.get(a.id)!;
      l.inflight += a.usd;
      parts.push([a.id, l, a.usd]);
    }
    this.holds.set(rid, { until: holdUntil, parts });
  }

  /** An admitted request's demand (on leases or by the exact script): the leases follow it. */
  noteAdmitted(asks: readonly LeaseAsk[], now: number): void {
    for (const a of asks) {
      let l = this.leases.get(a.id);
      if (!l) this.leases.set(a.id, (l = new Lease(a.entry)));
      l.entry = a.entry;
      l.note(a.usd, now);
    }
  }

  /** The free part of a budget's lease, handed back with an exact reservation (Redis drops it in the same call). */
  giveBack(id: string): number {
    const l = this.leases.get(id);
    if (!l) return 0;
    const f = l.free;
    if (!(f > 0)) return 0;
    l.held -= f;
    return f;
  }

  /**
   * A request held on leases finished: its estimate leaves them, its cost on those budgets is
   * owed. Returns the budget ids it held on leases (null: none), whose reservations are not in Redis.
   */
  settle(rid: string | null, charged: ReadonlySet<string>, cost: number): ReadonlySet<string> | null {
    const h = rid === null ? undefined : this.holds.get(rid);
    if (!h) return null;
    this.holds.delete(rid!);
    const ids = new Set<string>();
    for (const [id, l, usd] of h.parts) {
      ids.add(id);
      l.inflight = Math.max(0, l.inflight - usd);
      if (cost > 0 && charged.has(id)) l.owed += cost;
    }
    return ids;
  }

  /** Whether a sync would change anything: cost owed, a lease to grow, return or renew. */
  pending(now: number): boolean {
    for (const l of this.leases.values()) if (this.change(l, now)) return true;
    return false;
  }

  /** The same for one request's budgets only (the hot path's check: O(budgets it touches)). */
  pendingOn(asks: readonly LeaseAsk[], now: number): boolean {
    for (const a of asks) {
      const l = this.leases.get(a.id);
      if (l && this.change(l, now)) return true;
    }
    return false;
  }

  /**
   * What the next sync sends, taken as sent: each changed lease's new value (owed cost out,
   * surplus back) and how much more it asks for. `done` must follow with Redis' grants.
   */
  take(now: number): LeaseChange[] {
    this.dropStaleHolds(now);
    const out: LeaseChange[] = [];
    for (const [id, l] of this.leases) {
      const c = this.change(l, now);
      if (!c) {
        if (l.held <= 0 && l.inflight <= 0 && l.owed <= 0 && now - l.lastAt > LEASE_IDLE_MS) this.leases.delete(id);
        continue;
      }
      l.held = c.abs;
      l.owed = 0;
      if (c.want > 0) l.asking = true;
      out.push({ id, entry: l.entry, ...c });
    }
    return out;
  }

  /** Redis' answer to `take`'s changes: the grants in order, or null when the call failed. */
  done(changes: readonly LeaseChange[], grants: readonly number[] | null, sentAt: number): void {
    changes.forEach((c, i) => {
      const l = this.leases.get(c.id);
      if (!l) return;
      l.asking = false;
      // a failed call may or may not have run: Redis then holds at least `held`, which is safe
      if (grants === null) {
        if (c.want > 0) l.askAfter = sentAt + ASK_BACKOFF_MS;
        return;
      }
      const g = Number.isFinite(grants[i]) && grants[i]! > 0 ? grants[i]! : 0;
      l.held += g;
      if (c.want > 0 && g === 0) l.askAfter = sentAt + ASK_BACKOFF_MS;
      l.until = sentAt + LEASE_TTL_MS - LOCAL_MARGIN_MS;
    });
  }

  /** Shutting down: every lease is idle from now, so the next sync hands back all but what is in flight. */
  handBackAll(): void {
    for (const l of this.leases.values()) l.lastAt = -Infinity;
  }

  /** Redis lost this gateway's state (restart, flush, expired heartbeat): no lease is held any more. */
  lost(): void {
    for (const l of this.leases.values()) {
      l.held = 0;
      l.until = 0;
    }
  }

  /** What this gateway holds on leases per budget id (for /budgets and tests). */
  held(id: string): number {
    return Math.max(0, this.leases.get(id)?.held ?? 0);
  }

  private change(l: Lease, now: number): { abs: number; want: number; minGrant: number } | null {
    // past its local end Redis may have let the lease go: count nothing on it
    if (now >= l.until && l.held > 0) l.held = 0;
    let abs = Math.max(0, l.held - l.owed);
    const target = l.target(now);
    const free = abs - l.inflight;
    if (free > 2 * target + l.lastEstimate) abs = l.inflight + target;
    const canAsk = target > 0 && !l.asking && now >= l.askAfter;
    const want = canAsk && free < target / 2 ? target - Math.max(0, free) : 0;
    const renew = abs > 0 && l.until - now < RENEW_WITHIN_MS;
    if (abs === l.held && l.owed === 0 && want === 0 && !renew) return null;
    return { abs, want, minGrant: l.lastEstimate };
  }

  /** Requests that never settled (a crash inside the pipeline) stop holding their estimates at their deadline. */
  private dropStaleHolds(now: number): void {
    for (const [rid, h] of this.holds) if (now > h.until) this.settle(rid, NOTHING, 0);
  }
}
