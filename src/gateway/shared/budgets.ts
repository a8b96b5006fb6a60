// Budgets across gateways: the Redis side of the budget tracker.
//
// - reserve(): the hot path. One script call checks every `block` budget a request touches
//   against the global spend plus reservations and, only if all pass, reserves on all of them.
//   At most HOT_DEADLINE_MS; a down link answers at once, without waiting.
// - settle(): off the response path. Releases are queued and sent with this gateway's absolute
//   bucket values in one call per 10 ms at most; a call that fails keeps them for the next.
// - converge(): on start and every time Redis answers again, this gateway's whole contribution
//   is replaced by its own buckets (what its usage log holds), then the global view is read.
// - Every second the global view (spend, reservations, split per gateway) is read again: the
//   "last known global spend" the gateway falls back on while Redis does not answer.
import type { BudgetEntry } from '../../config/schema.js';
import type { Logger } from '../log.js';
import { BACKGROUND_DEADLINE_MS, TIMED_OUT, type RedisLink } from './link.js';

/** What the budget tracker lends the shared layer: its own spend, bucket by bucket. */
export interface LocalSpend {
  /** the budgets now configured */
  entries(): readonly BudgetEntry[];
  /** one budget's own buckets and their shape; undefined when it is not configured */
  window(entry: BudgetEntry): { bucketMs: number; slots: number } | undefined;
  /** own non-empty buckets of a budget in its window, [index, usd] */
  buckets(entry: BudgetEntry, nowMs: number): Array<[number, number]>;
  /** own spend in one bucket */
  bucketSpend(entry: BudgetEntry, idx: number, nowMs: number): number;
  /** own spend plus own reservations of a budget */
  committed(entry: BudgetEntry, nowMs: number): number;
}

export interface ReserveItem {
  entry: BudgetEntry;
  usd: number;
}

export type ReserveOutcome =
  | { kind: 'admitted' }
  | { kind: 'blocked'; blocked: BudgetEntry[] }
  | { kind: 'unavailable'; reason: string };

export interface GatewaySplit {
  gateway_id: string;
  spend_usd: number;
  reserved_usd: number;
}

export interface GlobalBudgetView {
  spend_usd: number;
  reserved_usd: number;
  gateways: GatewaySplit[];
}

/** Redis' name for a budget: scope, window and target, so different windows never share buckets. */
export const budgetId = (e: BudgetEntry) => `${e.scope}:${e.window_seconds}:${e.target}`;

const STATUS_EVERY_MS = 1000;
const SETTLE_BATCH_MS = 10;
/** Releases kept while Redis is away; past this the oldest are dropped (their reservations expire by TTL). */
const MAX_PENDING_RELEASES = 100_000;

const num = (v: unknown) => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

function pairs(flat: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}

export class SharedBudgets {
  private local: LocalSpend | null = null;
  private nextRid = 0;
  private readonly pendingReleases: string[] = [];
  /** `${bid}\0${idx}` -> the bucket to write (its value is read from the local window when sent) */
  private readonly dirty = new Map<string, { entry: BudgetEntry; idx: number }>();
  private flushScheduled = false;
  private flushing = false;
  /** last known others' spend + reservations per budget id: what `local` mode enforces on */
  private readonly othersCommitted = new Map<string, number>();
  private views = new Map<string, GlobalBudgetView>();
  private liveGateways: string[] = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private readTime = 0;

  constructor(
    private readonly link: RedisLink,
    readonly gatewayId: string,
    private readonly log: Logger,
    /** false while Redis is away or this gateway holds no heartbeat there; with the reason */
    private readonly usable: () => string | null,
  ) {}

  attach(local: LocalSpend): void {
    this.local = local;
  }

  start(): void {
    if (this.statusTimer) return;
    this.statusTimer = setInterval(() => void this.readStatus(), STATUS_EVERY_MS);
    this.statusTimer.unref();
  }

  stop(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
  }

  /** A fresh reservation id (unique within this gateway, which Redis prefixes with its id). */
  newReservationId(): string {
    this.nextRid = (this.nextRid + 1) % Number.MAX_SAFE_INTEGER;
    return `${Date.now().toString(36)}.${this.nextRid.toString(36)}`;
  }

  /** Others' last known spend plus reservations on this budget (0 before the first read). */
  others(entry: BudgetEntry): number {
    return this.othersCommitted.get(budgetId(entry)) ?? 0;
  }

  view(entry: BudgetEntry): GlobalBudgetView | undefined {
    return this.views.get(budgetId(entry));
  }

  get gateways(): readonly string[] {
    return this.liveGateways;
  }

  /** When the global view was last read (epoch ms, 0 = never). */
  get viewReadAt(): number {
    return this.readTime;
  }

  /**
   * Check-and-reserve in one round trip. `items` are every `block` budget the request touches,
   * each with what it reserves (0 = only checked); `mine` is what this request already holds
   * locally on each, so the others' share can be told apart.
   */
  async reserve(rid: string, items: readonly ReserveItem[], expiryMs: number): Promise<ReserveOutcome> {
    const why = this.usable();
    if (why !== null) return { kind: 'unavailable', reason: why };
    const now = Date.now();
    const args: Array<string | number> = [now, this.gatewayId, rid, Math.ceil(expiryMs), items.length];
    for (const it of items) {
      const w = this.local?.window(it.entry);
      if (!w) return { kind: 'unavailable', reason: 'budget not tracked' };
      args.push(budgetId(it.entry), w.bucketMs, w.slots, it.entry.max_budget_usd, it.usd);
    }
    const answer = await this.link.hotCall((c) => c.ptuiReserve(...args));
    if ('unavailable' in answer) return { kind: 'unavailable', reason: answer.unavailable };
    const reply = answer.reply;
    if (!Array.isArray(reply)) return { kind: 'unavailable', reason: 'unexpected reply from Redis' };
    if (Number(reply[1]) !== 1) return { kind: 'unavailable', reason: 'this gateway has no heartbeat in Redis yet (Redis restarted or was flushed)' };
    const blocked: BudgetEntry[] = [];
    const nowLocal = Date.now();
    items.forEach((it, i) => {
      const spend = num(reply[2 + i * 3]);
      const reserved = num(reply[3 + i * 3]);
      if (Number(reply[4 + i * 3]) === 1) blocked.push(it.entry);
      // this request's own reservation is in `committed` locally but not yet in Redis' figures
      const own = (this.local?.committed(it.entry, nowLocal) ?? 0) - it.usd;
      this.othersCommitted.set(budgetId(it.entry), Math.max(0, spend + reserved - Math.max(0, own)));
    });
    if (Number(reply[0]) === 1) return { kind: 'admitted' };
    return { kind: 'blocked', blocked };
  }

  /**
   * After a request: its reservations go, its charged buckets are written as absolute values.
   * Returns at once; the write happens in one batch per event-loop turn.
   */
  settle(rid: string | null, reserved: readonly BudgetEntry[], charged: ReadonlyArray<{ entry: BudgetEntry; idx: number }>): void {
    if (rid !== null) for (const e of reserved) this.pendingReleases.push(`${rid}|${budgetId(e)}`);
    if (this.pendingReleases.length > MAX_PENDING_RELEASES) this.pendingReleases.splice(0, this.pendingReleases.length - MAX_PENDING_RELEASES);
    for (const c of charged) this.dirty.set(`${budgetId(c.entry)}\0${c.idx}`, c);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.usable() !== null) return;
    this.flushScheduled = true;
    // A short wait gathers the settles of many requests into one call. Nothing is lost meanwhile:
    // a request's reservation stays in Redis until the same call writes its spend.
    setTimeout(() => {
      this.flushScheduled = false;
      void this.flush();
    }, SETTLE_BATCH_MS).unref();
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.usable() !== null || !this.local) return;
    if (this.pendingReleases.length === 0 && this.dirty.size === 0) return;
    this.flushing = true;
    const releases = this.pendingReleases.splice(0);
    const sets = [...this.dirty.values()];
    this.dirty.clear();
    const now = Date.now();
    const args: Array<string | number> = [now, this.gatewayId, releases.length, ...releases];
    const setArgs: Array<string | number> = [];
    let count = 0;
    for (const s of sets) {
      const w = this.local.window(s.entry);
      if (!w) continue;
      setArgs.push(budgetId(s.entry), w.bucketMs, w.slots, s.idx, this.local.bucketSpend(s.entry, s.idx, now));
      count++;
    }
    args.push(count, ...setArgs);
    let ok = false;
    try {
      ok = (await this.link.call((c) => c.ptuiSettle(...args), BACKGROUND_DEADLINE_MS)) !== TIMED_OUT;
    } catch (err) {
      this.log.warn('shared_settle_failed', { error: String(err).slice(0, 200) });
    }
    if (!ok) {
      // Kept for the next try; both halves are idempotent, so a call that did run is harmless to repeat.
      this.pendingReleases.unshift(...releases);
      for (const s of sets) this.dirty.set(`${budgetId(s.entry)}\0${s.idx}`, s);
    }
    this.flushing = false;
    if (ok && (this.pendingReleases.length > 0 || this.dirty.size > 0)) this.scheduleFlush();
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
    try {
      const r = await this.link.call((c) => c.ptuiRepublish(...args), BACKGROUND_DEADLINE_MS);
      if (r === TIMED_OUT) return false;
    } catch (err) {
      this.log.warn('shared_republish_failed', { error: String(err).slice(0, 200) });
      return false;
    }
    // everything dirty is in what was just written; releases still go out
    this.dirty.clear();
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
    let reply: unknown;
    try {
      reply = await this.link.call((c) => c.ptuiStatus(...args), BACKGROUND_DEADLINE_MS);
    } catch {
      return;
    }
    if (!Array.isArray(reply)) return;
    this.liveGateways = pairs(reply[0]).map(([gw]) => gw).sort();
    const views = new Map<string, GlobalBudgetView>();
    entries.forEach((e, i) => {
      const row = reply[1 + i];
      if (!Array.isArray(row)) return;
      const spend = num(row[0]);
      const reserved = num(row[1]);
      const split = new Map<string, GatewaySplit>();
      const at = (gw: string) => split.get(gw) ?? split.set(gw, { gateway_id: gw, spend_usd: 0, reserved_usd: 0 }).get(gw)!;
      for (const [gw, v] of pairs(row[2])) at(gw).spend_usd = num(v);
      for (const [gw, v] of pairs(row[3])) at(gw).reserved_usd = num(v);
      const id = budgetId(e);
      views.set(id, { spend_usd: spend, reserved_usd: reserved, gateways: [...split.values()].sort((a, b) => a.gateway_id.localeCompare(b.gateway_id)) });
      const mine = split.get(this.gatewayId);
      // others = the global figures minus this gateway's own share as Redis has it
      this.othersCommitted.set(id, Math.max(0, spend + reserved - (mine ? mine.spend_usd + mine.reserved_usd : 0)));
    });
    this.views = views;
    this.readTime = Date.now();
  }
}
