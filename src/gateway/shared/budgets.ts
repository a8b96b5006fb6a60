// Budgets across gateways: the Redis side of the budget tracker.
//
// - reserve(): the hot path. Most requests are admitted on this gateway's budget leases
//   (leases.ts): slices of each budget's headroom held in Redis, checked in memory, no round
//   trip. Otherwise the budgets its leases do cover are held on them, and one script call
//   checks the others against the global spend plus reservations (leases included) and, only if
//   all pass, reserves on all of them, handing back in the same call the free part of any lease
//   too small to use. At most HOT_DEADLINE_MS; a down link answers at once, without waiting.
// - settle(): off the response path. Releases, this gateway's absolute bucket values and lease
//   changes (costs moved out, surplus back, refills asked for) are queued and sent in one sync
//   call: within 10 ms when it releases or refills, 100 ms for spend alone. A call that fails
//   keeps them and is tried again.
// - converge(): on start and every time Redis answers again, this gateway's whole contribution
//   is replaced by its own buckets (what its usage log holds), then the global view is read.
// - Every second the global view (spend, reservations, split per gateway) is read again: the
//   "last known global spend" the gateway falls back on while Redis does not answer.
import type { BudgetEntry } from '../../config/schema.js';
import type { Logger } from '../log.js';
import { LEASE_TTL_MS, LeaseBook, type LeaseChange } from './leases.js';
import { BACKGROUND_DEADLINE_MS, TIMED_OUT, type RedisLink } from './link.js';
import type { LocalSpend } from './local-spend.js';
import { GlobalView, num, type GlobalBudgetView } from './view.js';

export type { GatewaySplit, GlobalBudgetView } from './view.js';
export type { LocalSpend } from './local-spend.js';

export interface ReserveItem {
  entry: BudgetEntry;
  usd: number;
}

export type ReserveOutcome =
  | { kind: 'admitted' }
  | { kind: 'blocked'; blocked: BudgetEntry[] }
  | { kind: 'unavailable'; reason: string };

/** Redis' name for a budget: scope, window and target, so different windows never share buckets. */
export const budgetId = (e: BudgetEntry) => `${e.scope}:${e.window_seconds}:${e.target}`;

const STATUS_EVERY_MS = 1000;
/** releases and lease refills go out this soon: another request may be waiting for that headroom */
const URGENT_BATCH_MS = 10;
/** spend alone (buckets, costs out of leases) waits longer, so one call carries many requests */
const SPEND_BATCH_MS = 100;
/** a sync that failed is tried again after this long (while Redis answers) */
const RETRY_MS = 250;
/** Releases kept while Redis is away; past this the oldest are dropped (their reservations expire by TTL). */
const MAX_PENDING_RELEASES = 100_000;
const NO_IDS: ReadonlySet<string> = new Set();

export class SharedBudgets {
  private local: LocalSpend | null = null;
  readonly leases = new LeaseBook();
  private nextRid = 0;
  private readonly pendingReleases: string[] = [];
  /** `${bid}\0${idx}` -> the bucket to write (its value is read from the local window when sent) */
  private readonly dirty = new Map<string, { entry: BudgetEntry; idx: number }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushAt = 0;
  /** the sync in flight, if any: one at a time, since each sets its leases to absolute values */
  private flushing: Promise<void> | null = null;
  /** the last global figures read: what `local` mode enforces on while Redis is away */
  private readonly global = new GlobalView();
  private statusTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: RedisLink,
    readonly gatewayId: string,
    private readonly log: Logger,
    /** false while Redis is away or this gateway holds no heartbeat there; with the reason */
    private readonly usable: () => string | null,
    /** counts an admission: on a lease (no round trip) or by the check-and-reserve script */
    private readonly counted: (path: 'lease' | 'redis') => void = () => {},
  ) {}

  attach(local: LocalSpend): void {
    this.local = local;
  }

  start(): void {
    if (this.statusTimer) return;
    this.statusTimer = setInterval(() => {
      void this.readStatus();
      // idle leases go back, and leases near their end are renewed, with no request to carry them
      if (this.leases.pending(Date.now())) this.scheduleFlush(SPEND_BATCH_MS);
    }, STATUS_EVERY_MS);
    this.statusTimer.unref();
  }

  stop(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
  }

  /**
   * Sends what is queued now (after the one in flight, if any) instead of at the end of the
   * batch wait: for a clean shutdown, whose last settles would otherwise wait for the next start.
   */
  async flushNow(): Promise<void> {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.flushing) await this.flushing;
    await this.flush();
  }

  /** A fresh reservation id (unique within this gateway, which Redis prefixes with its id). */
  newReservationId(): string {
    this.nextRid = (this.nextRid + 1) % Number.MAX_SAFE_INTEGER;
    return `${Date.now().toString(36)}.${this.nextRid.toString(36)}`;
  }

  /** Others' last known spend plus reservations on this budget (0 before the first read). */
  others(entry: BudgetEntry): number {
    return this.global.others.get(budgetId(entry)) ?? 0;
  }

  view(entry: BudgetEntry): GlobalBudgetView | undefined {
    return this.global.get(budgetId(entry));
  }

  get gateways(): readonly string[] {
    return this.global.gateways;
  }

  /** When the global view was last read (epoch ms, 0 = never). */
  get viewReadAt(): number {
    return this.global.readAt;
  }

  /**
   * Admission for one request: on leases in memory when they cover it, else check-and-reserve
   * in one round trip. `items` are every `block` budget the request touches, each with what it
   * reserves (0 = only checked); `expiryMs` is when its reservations may lapse.
   */
  async reserve(rid: string, items: readonly ReserveItem[], expiryMs: number): Promise<ReserveOutcome> {
    const why = this.usable();
    if (why !== null) return { kind: 'unavailable', reason: why };
    const now = Date.now();
    const asks = items.map((it) => ({ id: budgetId(it.entry), entry: it.entry, usd: it.usd }));
    if (this.leases.admit(rid, asks, now, expiryMs)) {
      this.counted('lease');
      // a lease at its low-water mark is refilled in the background, before it runs dry
      if (this.leases.pendingOn(asks, now)) this.scheduleFlush();
      return { kind: 'admitted' };
    }
    // what the leases cover is held on them; only the rest goes to the exact script
    const covered = this.leases.holdCovered(rid, asks, now, expiryMs);
    const exact = items.filter((_, i) => !covered[i]);
    const unhold = () => this.leases.settle(rid, NO_IDS, 0);
    const args: Array<string | number> = [now, this.gatewayId, rid, Math.ceil(expiryMs), exact.length];
    for (const it of exact) {
      const w = this.local?.window(it.entry);
      if (!w) return (unhold(), { kind: 'unavailable', reason: 'budget not tracked' });
      // a lease too small for this request goes back in the same call, so it blocks no one
      args.push(budgetId(it.entry), w.bucketMs, w.slots, it.entry.max_budget_usd, it.usd, this.leases.giveBack(budgetId(it.entry)));
    }
    const answer = await this.link.hotCall((c) => c.ptuiReserve(...args));
    if ('unavailable' in answer) {
      unhold();
      // the call may still run in Redis after we stopped waiting: what it reserved must go again
      this.release(rid, exact);
      return { kind: 'unavailable', reason: answer.unavailable };
    }
    const reply = answer.reply;
    if (!Array.isArray(reply) || Number(reply[1]) !== 1) {
      unhold();
      return { kind: 'unavailable', reason: Array.isArray(reply) ? 'this gateway has no heartbeat in Redis yet (Redis restarted or was flushed)' : 'unexpected reply from Redis' };
    }
    const blocked: BudgetEntry[] = [];
    const nowLocal = Date.now();
    exact.forEach((it, i) => {
      const spend = num(reply[2 + i * 3]);
      const reserved = num(reply[3 + i * 3]);
      if (Number(reply[4 + i * 3]) === 1) blocked.push(it.entry);
      // this request's own reservation is in `committed` locally but not yet in Redis' figures;
      // what is left of this gateway's lease there is what its requests in flight hold
      const own = (this.local?.committed(it.entry, nowLocal) ?? 0) - it.usd;
      this.global.others.set(budgetId(it.entry), Math.max(0, spend + reserved - Math.max(0, own)));
    });
    if (Number(reply[0]) !== 1) return (unhold(), { kind: 'blocked', blocked });
    this.leases.noteAdmitted(asks, nowLocal);
    if (this.leases.pendingOn(asks, nowLocal)) this.scheduleFlush();
    this.counted('redis');
    return { kind: 'admitted' };
  }

  private release(rid: string, items: readonly ReserveItem[]): void {
    for (const it of items) if (it.usd > 0) this.pendingReleases.push(`${rid}|${budgetId(it.entry)}`);
    this.scheduleFlush();
  }

  /**
   * After a request: its reservations go (or its lease hold ends and its cost is owed to the
   * lease), its charged buckets are written as absolute values. Returns at once; the write
   * happens in one batch.
   */
  settle(rid: string | null, reserved: readonly BudgetEntry[], charged: ReadonlyArray<{ entry: BudgetEntry; idx: number }>, costUsd = 0): void {
    const onLease = this.leases.settle(rid, new Set(charged.map((c) => budgetId(c.entry))), costUsd);
    let releasing = false;
    if (rid !== null) {
      for (const e of reserved) {
        const id = budgetId(e);
        if (onLease?.has(id)) continue;
        this.pendingReleases.push(`${rid}|${id}`);
        releasing = true;
      }
    }
    if (this.pendingReleases.length > MAX_PENDING_RELEASES) this.pendingReleases.splice(0, this.pendingReleases.length - MAX_PENDING_RELEASES);
    for (const c of charged) this.dirty.set(`${budgetId(c.entry)}\0${c.idx}`, c);
    this.scheduleFlush(releasing ? URGENT_BATCH_MS : SPEND_BATCH_MS);
  }

  private scheduleFlush(delayMs = URGENT_BATCH_MS): void {
    if (this.usable() !== null) return;
    const at = Date.now() + delayMs;
    if (this.flushTimer !== null) {
      if (this.flushAt <= at) return;
      clearTimeout(this.flushTimer);
    }
    this.flushAt = at;
    // A short wait gathers the settles of many requests into one call. Nothing is lost meanwhile:
    // a request's reservation stays in Redis until the same call writes its spend.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, delayMs);
    this.flushTimer.unref();
  }

  private flush(): Promise<void> {
    if (this.flushing || this.usable() !== null || !this.local) return Promise.resolve();
    if (this.pendingReleases.length === 0 && this.dirty.size === 0 && !this.leases.pending(Date.now())) return Promise.resolve();
    this.flushing = this.sync(this.local).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async sync(local: LocalSpend): Promise<void> {
    const now = Date.now();
    const releases = this.pendingReleases.splice(0);
    const sets = [...this.dirty.values()];
    this.dirty.clear();
    // taken as sent: a settled cost leaves its lease in the same call that writes its bucket
    const changes = this.leases.take(now);
    const args: Array<string | number> = [now, this.gatewayId, releases.length, ...releases];
    const setArgs: Array<string | number> = [];
    let count = 0;
    for (const s of sets) {
      const w = local.window(s.entry);
      if (!w) continue;
      setArgs.push(budgetId(s.entry), w.bucketMs, w.slots, s.idx, local.bucketSpend(s.entry, s.idx, now));
      count++;
    }
    args.push(count, ...setArgs, changes.length);
    for (const c of changes) {
      // a budget no longer configured only hands its lease back: no window to grant from
      const w = local.window(c.entry);
      args.push(c.id, w?.bucketMs ?? 1, w?.slots ?? 1, c.entry.max_budget_usd, c.abs, w ? c.want : 0, c.minGrant, now + LEASE_TTL_MS);
    }
    let reply: unknown = TIMED_OUT;
    try {
      reply = await this.link.call((c) => c.ptuiSync(...args), BACKGROUND_DEADLINE_MS);
    } catch (err) {
      this.log.warn('shared_settle_failed', { error: String(err).slice(0, 200) });
    }
    const ok = Array.isArray(reply);
    if (reply === TIMED_OUT) this.log.debug('shared_sync_late', { deadline_ms: BACKGROUND_DEADLINE_MS, note: 'kept; tried again' });
    this.applyGrants(changes, ok ? (reply as unknown[]) : null, now);
    if (!ok) {
      // Kept for the next try; both halves are idempotent, so a call that did run is harmless to repeat.
      this.pendingReleases.unshift(...releases);
      for (const s of sets) this.dirty.set(`${budgetId(s.entry)}\0${s.idx}`, s);
    }
    if (!ok) this.scheduleFlush(RETRY_MS);
    else if (this.pendingReleases.length > 0) this.scheduleFlush(URGENT_BATCH_MS);
    else if (this.dirty.size > 0 || this.leases.pending(Date.now())) this.scheduleFlush(SPEND_BATCH_MS);
  }

  private applyGrants(changes: readonly LeaseChange[], reply: unknown[] | null, sentAt: number): void {
    if (reply !== null && Number(reply[0]) !== 1) {
      // no heartbeat of ours in Redis: it lost our state, and our leases with it
      this.leases.done(changes, null, sentAt);
      this.leases.lost();
      return;
    }
    this.leases.done(changes, reply === null ? null : changes.map((_, i) => num(reply[1 + i])), sentAt);
  }

  /**
   * Replaces this gateway's contribution to every budget with its own buckets, then reads the
   * global view. Safe to repeat: nothing is added twice.
   */
  async converge(): Promise<boolean> {
    const local = this.local;
    if (!local || this.usable() !== null) return false;
    const now = Date.now();
    const entries = local.entries();
    const args: Array<string | number> = [now, this.gatewayId, 0];
    let count = 0;
    for (const e of entries) {
      const w = local.window(e);
      if (!w) continue;
      const b = local.buckets(e, now);
      args.push(budgetId(e), w.bucketMs, w.slots, b.length);
      for (const [idx, usd] of b) args.push(idx, usd);
      count++;
    }
    args[2] = count;
    // Every bucket dirty now is in what is sent; one settled while the call is out stays dirty.
    const covered = [...this.dirty];
    this.dirty.clear();
    let ok = false;
    try {
      ok = (await this.link.call((c) => c.ptuiRepublish(...args), BACKGROUND_DEADLINE_MS)) !== TIMED_OUT;
    } catch (err) {
      this.log.warn('shared_republish_failed', { error: String(err).slice(0, 200) });
    }
    if (!ok) {
      for (const [k, v] of covered) if (!this.dirty.has(k)) this.dirty.set(k, v);
      return false;
    }
    // releases and lease changes still go out
    this.scheduleFlush();
    await this.readStatus();
    return true;
  }

  /** Reads the global spend, reservations and per-gateway split of every budget. */
  async readStatus(): Promise<void> {
    const local = this.local;
    if (!local || this.usable() !== null) return;
    const entries = local.entries().filter((e) => local.window(e));
    const now = Date.now();
    const args: Array<string | number> = [now, entries.length];
    for (const e of entries) {
      const w = local.window(e)!;
      args.push(budgetId(e), w.bucketMs, w.slots);
    }
    try {
      this.global.apply(await this.link.call((c) => c.ptuiStatus(...args), BACKGROUND_DEADLINE_MS), entries.map(budgetId), this.gatewayId);
    } catch {
      // Redis away: the last figures stand
    }
  }
}
