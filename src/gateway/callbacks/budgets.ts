// Budgets before and after every request.
//
// Before: the logical model's, capability's and virtual key's budgets, and the provider budget of every target
// the router may try. A `block` budget whose spend plus in-flight reservations has reached its
// limit rejects the request with 429, except a provider budget, which only removes that
// provider's targets from `ctx.targets`: the router falls back to a provider that may still
// spend, and the request fails only when no target is left. Admitted requests reserve an
// estimate on each `block` budget they may charge, so concurrent requests cannot all pass a
// nearly spent budget; the overshoot is bounded by what one admitted request may cost.
// A `warn` budget that is exceeded lets the request go on with `x-backend-budget-warning`.
//
// After: the reservation is released and the real cost (ctx.costUsd, which the server sets alike
// for streamed and non-streamed requests, 0 for cache hits) is charged to the provider that answered, the
// model, the capability and the key. The master key has no key budget; the others still apply to it.
// Key budgets come with the keys (`ptui keys create --budget-usd`): the tracker is rebuilt when they change.
//
// Spend is seeded from the usage log at start and on every config change, so it survives
// restarts and a changed window takes effect at once.
import type { ResolvedConfig } from '../../config/load.js';
import type { BudgetEntry, BudgetStatus, Target } from '../../config/schema.js';
import { keyBudgetEntry } from '../../keys/schema.js';
import { readKeySpendBuckets } from '../../usage/key-spend.js';
import { readSpendSeed, type SpendSeed } from '../../usage/spend.js';
import { BudgetTracker, seedQueryFor, type TrackedBudget } from '../budget/tracker.js';
import { requestEstimate } from '../budget/estimate.js';
import { retryAfterSeconds } from '../budget/retry-after.js';
import type { Context } from '../context.js';
import { costUsd } from '../cost.js';
import { GatewayError } from '../errors.js';
import { Callback, type CallbackDeps } from '../pipeline.js';
import { localSpendOf } from '../shared/local-spend.js';
import { sharedStatus, touchedBlockBudgets, reservationExpiry } from '../shared/gate.js';
import type { SharedState } from '../shared/state.js';

interface Reservation {
  key: string;
  usd: number;
}

interface Built {
  tracker: BudgetTracker;
  seed: SpendSeed | null;
  seedError: string | null;
}

interface BudgetsState {
  reservations: Reservation[];
  settled: boolean;
  /** the reservation's id in the shared Redis, and the budgets it holds there */
  sharedRid?: string;
  sharedHeld?: BudgetEntry[];
}

// A warn budget that stays exceeded logs once per minute, not once per request.
const WARN_LOG_INTERVAL_MS = 60_000;

const money = (usd: number) => `$${usd.toFixed(usd < 10 ? 4 : 2)}`;

function describe(b: TrackedBudget, spend: number): string {
  return `${b.entry.scope} "${b.entry.target}" spent ${money(spend)} of ${money(b.entry.max_budget_usd)} in the last ${b.entry.budget_window}`;
}

export class BudgetsCallback extends Callback {
  readonly name = 'budgets';
  // set by build() in the constructor; undefined only while the first one is built
  private tracker!: BudgetTracker;
  /** outlives reloads: requests in flight keep their estimates reserved across a config change */
  private readonly reserved = new Map<string, number>();
  private readonly lastWarnLog = new Map<string, number>();
  private invalidAfterId = 0;
  /** set in shared mode: budgets are enforced over every gateway on the same Redis */
  private readonly shared: SharedState | null;

  constructor(deps: CallbackDeps) {
    super(deps);
    this.shared = deps.shared ?? null;
    this.use(this.build(deps.getConfig()));
    this.shared?.budgets.attach(localSpendOf(() => this.tracker));
    deps.keys?.onChange(() => this.onConfig(deps.getConfig())); // key budgets come and go with the keys
    // The spend gauges are read off the tracker when /metrics is scraped: current then, rolling
    // window included, and nothing for the request path to keep up to date.
    (deps.metrics.budgetSpend as { collect?: () => void }).collect = () => this.refreshGauges();
  }

  override onConfig(config: ResolvedConfig): void {
    this.use(this.build(config));
    // a budget added or re-windowed has this gateway's buckets in no Redis key yet
    void this.shared?.converge();
  }

  override close(): void {
    (this.deps.metrics.budgetSpend as { collect?: () => void }).collect = undefined;
  }

  /** Every budget with its live spend: what GET /budgets serves. */
  status(): BudgetStatus[] {
    const now = Date.now();
    const local = this.tracker.status(now);
    return this.shared ? local.map((s) => sharedStatus(this.shared!, s)) : local;
  }

  /** Spend plus reservations a `block` budget admits against: this gateway's, and in shared mode the others' last known. */
  private committed(b: TrackedBudget, now: number): number {
    return this.tracker.committed(b, now) + (this.shared?.budgets.others(b.entry) ?? 0);
  }

  private spendOf(b: TrackedBudget, now: number): number {
    return this.tracker.spend(b, now) + (this.shared?.budgets.others(b.entry) ?? 0);
  }

  override onRequest(ctx: Context): void | Promise<void> {
    this.decideLocally(ctx);
    if (this.shared) return this.decideShared(ctx, this.shared, 0);
  }

  /**
   * Shared mode: the local decision stands only once Redis agrees, in one atomic check-and-reserve
   * over every gateway. Refused there: this request's local holds go and it is decided again on
   * the figures Redis just gave (a provider over budget drops out of the targets, a model or
   * capability rejects). No answer in 50 ms: `on_unavailable` decides.
   */
  private async decideShared(ctx: Context, shared: SharedState, round: number): Promise<void> {
    const state = ctx.state[this.name] as BudgetsState | undefined;
    const held = new Map((state?.reservations ?? []).map((r) => [r.key, r.usd]));
    const items = touchedBlockBudgets(this.tracker, ctx, held);
    if (items.touched === 0) return;
    const reason = shared.unusableReason();
    if (items.block.length === 0 && (reason === null || shared.mode === 'local')) return;
    const rid = shared.budgets.newReservationId();
    const r = items.block.length === 0 ? { kind: 'unavailable' as const, reason: reason! } : await shared.budgets.reserve(rid, items.block, reservationExpiry(ctx, this.deps.getConfig().providers));
    if (r.kind === 'admitted') {
      const s = (ctx.state[this.name] ??= { reservations: [], settled: false } satisfies BudgetsState) as BudgetsState;
      s.sharedRid = rid;
      s.sharedHeld = items.block.filter((i) => i.usd > 0).map((i) => i.entry);
      return;
    }
    if (r.kind === 'unavailable') {
      shared.countUnavailable(shared.mode);
      if (shared.mode === 'local') return;
      this.releaseLocal(ctx);
      throw new GatewayError(503, 'shared_state_unavailable', `shared budget state unavailable (on_unavailable: block): ${r.reason}`);
    }
    this.releaseLocal(ctx);
    const now = Date.now();
    if (round >= 2) this.reject(ctx, r.blocked.map((e) => this.tracker.get(e.scope, e.target)!).filter(Boolean), now);
    this.decideLocally(ctx);
    return this.decideShared(ctx, shared, round + 1);
  }

  private releaseLocal(ctx: Context): void {
    const state = ctx.state[this.name] as BudgetsState | undefined;
    if (!state) return;
    for (const r of state.reservations) this.tracker.release(r.key, r.usd);
    delete ctx.state[this.name];
  }

  private decideLocally(ctx: Context): void {
    const t = this.tracker;
    if (t.size === 0) return;
    const now = Date.now();
    const modelBudget = t.get('model', ctx.logicalModel);
    const capabilityBudget = t.get('capability', ctx.capability);
    const keyBudget = t.get('key', ctx.apiKey?.alias);

    // Provider budgets first: they narrow the targets, which the estimate then prices.
    let targets = ctx.targets;
    let blockedProviders: TrackedBudget[] | null = null;
    for (const target of ctx.targets) {
      const b = t.get('provider', target.provider);
      if (!b || b.entry.action !== 'block' || this.committed(b, now) < b.entry.max_budget_usd) continue;
      blockedProviders ??= [];
      if (!blockedProviders.includes(b)) blockedProviders.push(b);
      if (targets === ctx.targets) targets = ctx.targets.slice();
      targets.splice(targets.indexOf(target), 1);
    }
    const blocked: TrackedBudget[] = [];
    if (targets.length === 0 && blockedProviders) blocked.push(...blockedProviders);
    for (const b of [modelBudget, capabilityBudget, keyBudget]) {
      if (b && b.entry.action === 'block' && this.committed(b, now) >= b.entry.max_budget_usd) blocked.push(b);
    }
    if (blocked.length > 0) this.reject(ctx, blocked, now);
    if (blockedProviders) {
      for (const b of blockedProviders) this.deps.metrics.budgetExceeded.inc(b.labels);
      this.deps.log.warn('budget_provider_skipped', {
        request_id: ctx.requestId,
        providers: blockedProviders.map((b) => b.entry.target),
      });
      ctx.targets = targets;
    }

    this.warnIfExceeded(ctx, [t.get('provider', targets[0]?.provider), modelBudget, capabilityBudget, keyBudget], now);
    this.reserve(ctx, targets, [modelBudget, capabilityBudget, keyBudget]);
  }

  override onSuccess(ctx: Context): void {
    this.settle(ctx);
  }

  override onError(ctx: Context): void {
    this.settle(ctx);
  }

  private reject(ctx: Context, blocked: TrackedBudget[], now: number): never {
    for (const b of blocked) this.deps.metrics.budgetExceeded.inc(b.labels);
    const reasons = blocked.map((b) => describe(b, this.spendOf(b, now)));
    this.deps.log.warn('budget_blocked', {
      request_id: ctx.requestId,
      budgets: blocked.map((b) => b.key),
    });
    // Retrying cannot help until spend leaves the window: clients (the official SDKs among them)
    // are told not to, and when, if every blocking budget's spend will fall back under its limit.
    const headers: Record<string, string> = { 'x-should-retry': 'false' };
    const retryAfter = retryAfterSeconds(this.tracker, blocked, now);
    if (retryAfter !== null) headers['retry-after'] = String(retryAfter);
    throw new GatewayError(429, 'budget_exceeded', `budget exceeded: ${reasons.join('; ')}`, null, { headers });
  }

  private warnIfExceeded(ctx: Context, budgets: Array<TrackedBudget | undefined>, now: number): void {
    let header: string | null = null;
    for (const b of budgets) {
      if (!b || b.entry.action !== 'warn') continue;
      const spend = this.spendOf(b, now);
      if (spend < b.entry.max_budget_usd) continue;
      this.deps.metrics.budgetExceeded.inc(b.labels);
      const text = describe(b, spend);
      header = header === null ? text : `${header}; ${text}`;
      const last = this.lastWarnLog.get(b.key) ?? 0;
      if (now - last >= WARN_LOG_INTERVAL_MS) {
        this.lastWarnLog.set(b.key, now);
        this.deps.log.warn('budget_exceeded', { request_id: ctx.requestId, budget: b.key, spend_usd: spend, max_budget_usd: b.entry.max_budget_usd });
      }
    }
    // Budget names come from config and may hold characters a header cannot carry.
    if (header !== null) ctx.responseHeaders['x-backend-budget-warning'] = header.replace(/[^\x20-\x7e]/g, '?');
  }

  private reserve(
    ctx: Context,
    targets: readonly Target[],
    /** model, capability and key budgets: charged whichever target answers */
    anyTarget: ReadonlyArray<TrackedBudget | undefined>,
  ): void {
    const t = this.tracker;
    const estimate = (pricing: Target['pricing']) => (pricing ? costUsd(pricing, requestEstimate(ctx)) : 0);
    const reservations: Reservation[] = [];
    const hold = (b: TrackedBudget, usd: number) => {
      const held = t.reserve(b.key, usd);
      if (held > 0) reservations.push({ key: b.key, usd: held });
    };
    // The model, capability and key may be charged by whichever target answers: reserve the dearest.
    let dearest = 0;
    const needsDearest = anyTarget.some((b) => b?.entry.action === 'block');
    for (const target of targets) {
      const b = t.get('provider', target.provider);
      const cost = b?.entry.action === 'block' || needsDearest ? estimate(target.pricing) : 0;
      if (cost > dearest) dearest = cost;
      if (b?.entry.action !== 'block') continue;
      // A provider with several targets of this model answers at most once: hold its dearest.
      const held = reservations.find((r) => r.key === b.key);
      if (!held) hold(b, cost);
      else if (cost > held.usd) held.usd += t.reserve(b.key, cost - held.usd);
    }
    for (const b of anyTarget) if (b?.entry.action === 'block') hold(b, dearest);
    if (reservations.length > 0) ctx.state[this.name] = { reservations, settled: false } satisfies BudgetsState;
  }

  private settle(ctx: Context): void {
    const state = ctx.state[this.name] as BudgetsState | undefined;
    if (state) {
      if (state.settled) return;
      state.settled = true;
      for (const r of state.reservations) this.tracker.release(r.key, r.usd);
    } else {
      ctx.state[this.name] = { reservations: [], settled: true } satisfies BudgetsState;
    }
    const cost = ctx.costUsd;
    const charged = cost > 0 ? this.charge(ctx, cost) : [];
    // NaN, negative or missing: not spend, but worth knowing about
    if (!(cost >= 0)) this.deps.metrics.budgetInvalidRows.inc();
    if (this.shared && (state?.sharedRid || charged.length > 0)) {
      const now = Date.now();
      const buckets = charged.map((b) => ({ entry: b.entry, idx: b.window.indexFor(ctx.startedAt, now) }));
      this.shared.budgets.settle(state?.sharedRid ?? null, state?.sharedHeld ?? [], buckets, cost > 0 ? cost : 0);
    }
  }

  private charge(ctx: Context, cost: number): TrackedBudget[] {
    const now = Date.now();
    return this.tracker.charge(ctx.answeredBy?.provider ?? null, ctx.logicalModel, ctx.capability, ctx.startedAt, cost, now, ctx.apiKey?.alias ?? null);
  }

  /**
   * A fresh tracker for this config, seeded from the usage log (only the budgets the previous
   * tracker did not already hold), with what the seeding found. Changes nothing here: use() puts
   * it in place.
   */
  private build(config: ResolvedConfig): Built {
    const now = Date.now();
    const keyBudgets: BudgetEntry[] = [];
    for (const k of this.deps.keys?.keys ?? []) {
      const e = keyBudgetEntry(k);
      if (e) keyBudgets.push(e);
    }
    const tracker = new BudgetTracker([...config.budgets, ...keyBudgets], now, this.reserved, this.tracker);
    if (tracker.unseeded.length === 0) return { tracker, seed: null, seedError: null };
    const fresh = tracker.unseeded.filter((b) => b.entry.scope !== 'key');
    try {
      // keys are not in the per-minute rollup: each key budget reads its own index range
      for (const b of tracker.unseeded) {
        if (b.entry.scope !== 'key') continue;
        const w = b.window;
        tracker.seedKey(readKeySpendBuckets(this.deps.usage.db, b.entry.target, now - w.windowMs - w.bucketMs, w.bucketMs), now);
      }
      if (fresh.length === 0) return { tracker, seed: null, seedError: null };
      const seed = readSpendSeed(this.deps.usage.db, seedQueryFor(fresh.map((b) => b.entry), now, this.invalidAfterId));
      tracker.seed(seed, now);
      return { tracker, seed, seedError: null };
    } catch (err) {
      return { tracker, seed: null, seedError: String(err) };
    }
  }

  /** Puts a built tracker in place: its limits and spend become the gauges. */
  private use({ tracker, seed, seedError }: Built): void {
    // An unreadable log must not take the gateway down: budgets start from zero, loudly.
    if (seedError !== null) this.deps.log.error('budget_seed_failed', { error: seedError });
    if (seed) {
      this.invalidAfterId = seed.maxId;
      if (seed.invalidRows > 0) {
        this.deps.metrics.budgetInvalidRows.inc(seed.invalidRows);
        this.deps.log.warn('budget_invalid_cost_rows', { rows: seed.invalidRows, note: 'NULL or negative cost_usd ignored for spend' });
      }
    }
    this.deps.metrics.budgetSpend.reset();
    this.deps.metrics.budgetLimit.reset();
    for (const b of tracker.all) this.deps.metrics.budgetLimit.set(b.labels, b.entry.max_budget_usd);
    this.tracker = tracker;
    this.refreshGauges();
  }

  private refreshGauges(): void {
    const now = Date.now();
    for (const b of this.tracker.all) this.deps.metrics.budgetSpend.set(b.labels, this.tracker.spend(b, now));
  }
}
