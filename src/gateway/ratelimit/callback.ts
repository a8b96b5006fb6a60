// Requests and tokens per minute, per virtual key (`ptui keys create --rpm/--tpm`) and per
// logical model (`rate_limits:` in model-mappings.yaml). Checked before anything else in the
// pipeline, O(1) per request: a request must fit every limit it falls under, and is then counted
// in all of them at once (single-threaded, so 50 concurrent requests against rpm 10 admit 10).
// Tokens are reserved by estimate (prompt characters / 4 plus the completion allowed) and
// settled by what the upstream reported. A refusal is 429 `rate_limit_exceeded` with OpenAI's
// type (`requests` or `tokens`) and a `retry-after` the SDKs honour; every answer under a limit
// carries OpenAI's x-ratelimit-* headers for the tightest limit of each kind.
//
// In shared mode the windows that decide are in Redis, summed over every gateway, checked and
// counted in one round trip (src/gateway/shared/rate-limits.ts); the local counters go on
// counting what this gateway admitted, and decide alone while Redis does not answer
// (`on_unavailable: local`; `block` answers 503 instead).
import type { ResolvedConfig } from '../../config/load.js';
import { requestEstimate } from '../budget/estimate.js';
import type { Context } from '../context.js';
import { GatewayError } from '../errors.js';
import { Callback, type CallbackDeps } from '../pipeline.js';
import type { RateView } from '../shared/rate-limits.js';
import { MinuteCounter } from './minute.js';

interface Subject {
  /** `key:<alias>` or `model:<name>`: one counter each */
  id: string;
  /** for messages: `key "team-a"` */
  label: string;
  rpm: number | undefined;
  tpm: number | undefined;
  /** the limits as the x-ratelimit-limit-* headers carry them */
  rpmText: string;
  tpmText: string;
  counter: MinuteCounter;
}

interface RateState {
  subjects: Subject[];
  estimate: number;
  settled: boolean;
  /** shared mode: the second Redis counted the request in */
  sharedSecond?: number;
}

type Kind = 'requests' | 'tokens';

/**
 * OpenAI's duration style for x-ratelimit-reset-*: `20ms`, `1.5s`, `1m0s`. (A whole number of ms
 * over 1000 prints with at most three decimals and no trailing zeros: JavaScript's shortest
 * round-trip form of n / 1000 is that decimal.)
 */
export function formatReset(ms: number): string {
  const n = Math.max(0, Math.ceil(ms));
  if (n < 1000) return `${n}ms`;
  if (n < 60_000) return `${n / 1000}s`;
  return `${Math.floor(n / 60_000)}m${(n % 60_000) / 1000}s`;
}

/** The tightest limit of one kind among a request's subjects, as its headers say it. */
interface Tightest {
  limit: string;
  remaining: number;
  resetMs: number;
}

/** A subject's window as this gateway counts it. */
function localView(s: Subject, now: number): RateView {
  return {
    requests: s.counter.requests(now),
    tokens: s.counter.tokens(now),
    resetRequestsMs: s.counter.msUntilEmpty('requests', now),
    resetTokensMs: s.counter.msUntilEmpty('tokens', now),
  };
}

export class RateLimitsCallback extends Callback {
  readonly name = 'rate-limits';
  private readonly counters = new Map<string, MinuteCounter>();
  /**
   * A subject per key record and per configured model, built on its first request: a reload
   * (of the keys, or of the config) brings new records and so new subjects, and the counters,
   * kept by id, carry over.
   */
  private readonly keySubjects = new WeakMap<object, Subject>();
  private readonly modelSubjects = new WeakMap<object, Subject>();

  constructor(deps: CallbackDeps) {
    super(deps);
    deps.keys?.onChange((keys) => this.prune(new Set(keys.filter((k) => k.limits.rpm || k.limits.tpm).map((k) => k.alias))));
  }

  override onConfig(config: ResolvedConfig): void {
    // counters of models that no longer exist or lost their limits go; keys are pruned by prune()
    for (const id of this.counters.keys()) {
      if (id.startsWith('model:') && !config.models[id.slice(6)]?.rate_limits) this.counters.delete(id);
    }
  }

  /** Drops the counters of keys not in `aliases` (revoked, or no longer limited). */
  prune(limitedAliases: ReadonlySet<string>): void {
    for (const id of this.counters.keys()) if (id.startsWith('key:') && !limitedAliases.has(id.slice(4))) this.counters.delete(id);
  }

  private counter(id: string, nowMs: number): MinuteCounter {
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = new MinuteCounter(nowMs)));
    return c;
  }

  /**
   * The subject of a key record or a model, built on its first request (its id and texts made
   * once), with its counter looked up each time: a prune may have dropped the one it had.
   */
  private subject(cache: WeakMap<object, Subject>, owner: object, kind: 'key' | 'model', name: string, limits: { rpm?: number; tpm?: number }, nowMs: number): Subject {
    let s = cache.get(owner);
    if (s === undefined) {
      const { rpm, tpm } = limits;
      const id = `${kind}:${name}`;
      s = { id, label: `${kind} "${name}"`, rpm, tpm, rpmText: String(rpm), tpmText: String(tpm), counter: this.counter(id, nowMs) };
      cache.set(owner, s);
    } else s.counter = this.counter(s.id, nowMs);
    return s;
  }

  private subjects(ctx: Context, nowMs: number): Subject[] | null {
    let out: Subject[] | null = null;
    const key = ctx.apiKey;
    if (key && (key.limits.rpm || key.limits.tpm)) (out ??= []).push(this.subject(this.keySubjects, key, 'key', key.alias, key.limits, nowMs));
    const model = ctx.model;
    const limits = model?.rate_limits;
    if (model && limits && (limits.rpm || limits.tpm)) (out ??= []).push(this.subject(this.modelSubjects, model, 'model', model.name, limits, nowMs));
    return out;
  }

  override onRequest(ctx: Context): void | Promise<void> {
    // neither a key nor a model limit applies (the usual request): nothing to count
    if (ctx.apiKey === null && !ctx.model?.rate_limits) return;
    const now = Date.now();
    const subjects = this.subjects(ctx, now);
    if (!subjects) return;
    let estimate = 0;
    if (subjects.some((s) => s.tpm)) {
      const t = requestEstimate(ctx);
      estimate = t.prompt_tokens + t.completion_tokens;
    }
    // a request no window could ever hold: no need to ask anyone
    for (const s of subjects) {
      if (s.tpm && estimate > s.tpm) {
        const why = `this request may use about ${estimate} tokens, more than the ${s.tpm} per minute of ${s.label}; lower max_tokens`;
        this.refuse(ctx, subjects, subjects.map((x) => localView(x, now)), s, 'tokens', s.counter.msUntilEmpty('tokens', now), why);
      }
    }
    if (this.deps.shared) return this.decideShared(ctx, subjects, estimate);
    this.decideLocally(ctx, subjects, estimate, now);
  }

  private decideLocally(ctx: Context, subjects: Subject[], estimate: number, now: number): void {
    for (const s of subjects) {
      if (s.rpm) {
        const used = s.counter.requests(now);
        if (used + 1 > s.rpm) this.refuse(ctx, subjects, subjects.map((x) => localView(x, now)), s, 'requests', s.counter.msUntilFreed('requests', used + 1 - s.rpm, now));
      }
      if (s.tpm) {
        const used = s.counter.tokens(now);
        if (used + estimate > s.tpm) this.refuse(ctx, subjects, subjects.map((x) => localView(x, now)), s, 'tokens', s.counter.msUntilFreed('tokens', used + estimate - s.tpm, now));
      }
    }
    this.count(ctx, subjects, estimate, now);
    this.setHeaders(ctx, subjects, subjects.map((x) => localView(x, now)));
  }

  /** Admitted: counted here too, so this gateway's own windows are right when Redis is away. */
  private count(ctx: Context, subjects: Subject[], estimate: number, now: number, sharedSecond?: number): void {
    for (const s of subjects) {
      if (s.rpm) s.counter.addRequest(now);
      if (s.tpm) s.counter.inFlightTokens += estimate;
    }
    ctx.state[this.name] = { subjects, estimate, settled: false, sharedSecond } satisfies RateState;
  }

  private async decideShared(ctx: Context, subjects: Subject[], estimate: number): Promise<void> {
    const shared = this.deps.shared!;
    const r = await shared.rateLimits.admit(subjects.map((s) => ({ id: s.id, rpm: s.rpm ?? 0, tpm: s.tpm ?? 0, estimate: s.tpm ? estimate : 0 })));
    const now = Date.now();
    if (r.kind === 'unavailable') {
      shared.countUnavailable(shared.mode);
      if (shared.mode === 'block') throw new GatewayError(503, 'shared_state_unavailable', `shared rate-limit state unavailable (on_unavailable: block): ${r.reason}`);
      return this.decideLocally(ctx, subjects, estimate, now);
    }
    if (r.kind === 'refused') this.refuse(ctx, subjects, r.views, subjects[r.subject]!, r.type, r.waitMs);
    this.count(ctx, subjects, estimate, now, r.second);
    this.setHeaders(ctx, subjects, r.views);
  }

  override onSuccess(ctx: Context): void {
    this.settle(ctx);
  }

  override onError(ctx: Context): void {
    this.settle(ctx);
  }

  private settle(ctx: Context): void {
    const state = ctx.state[this.name] as RateState | undefined;
    if (!state || state.settled) return;
    state.settled = true;
    const reported = ctx.cacheHit ? 0 : (ctx.usage?.total_tokens ?? 0);
    const used = Number.isFinite(reported) && reported > 0 ? reported : 0;
    const now = Date.now();
    for (const s of state.subjects) {
      if (!s.tpm) continue;
      s.counter.settleTokens(state.estimate, used, now);
      if (state.sharedSecond !== undefined) this.deps.shared?.rateLimits.settle(s.id, state.sharedSecond, used - state.estimate);
    }
  }

  private refuse(ctx: Context, subjects: Subject[], views: RateView[], s: Subject, kind: Kind, waitMs: number, why?: string): never {
    this.setHeaders(ctx, subjects, views);
    const wait = Math.max(1, Math.ceil(waitMs));
    ctx.responseHeaders['retry-after'] = String(Math.ceil(wait / 1000));
    ctx.responseHeaders['retry-after-ms'] = String(wait);
    const limit = kind === 'requests' ? `${s.rpm} requests` : `${s.tpm} tokens`;
    this.deps.metrics.rateLimited.inc({ kind, scope: s.id.startsWith('key:') ? 'key' : 'model' });
    throw new GatewayError(429, 'rate_limit_exceeded', why ?? `rate limit of ${s.label} reached: ${limit} per minute; retry in ${formatReset(wait)}`, null, { type: kind });
  }

  /** x-ratelimit-* for the tightest limit of each kind among those this request falls under. */
  private setHeaders(ctx: Context, subjects: Subject[], views: RateView[]): void {
    const h = ctx.responseHeaders;
    let r: Tightest | null = null;
    let t: Tightest | null = null;
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const v = views[i]!;
      if (s.rpm) {
        const remaining = Math.max(0, s.rpm - v.requests);
        if (!r || remaining < r.remaining) r = { limit: s.rpmText, remaining, resetMs: v.resetRequestsMs };
      }
      if (s.tpm) {
        const remaining = Math.max(0, Math.floor(s.tpm - v.tokens));
        if (!t || remaining < t.remaining) t = { limit: s.tpmText, remaining, resetMs: v.resetTokensMs };
      }
    }
    if (r) {
      h['x-ratelimit-limit-requests'] = r.limit;
      h['x-ratelimit-remaining-requests'] = String(r.remaining);
      h['x-ratelimit-reset-requests'] = formatReset(r.resetMs);
    }
    if (t) {
      h['x-ratelimit-limit-tokens'] = t.limit;
      h['x-ratelimit-remaining-tokens'] = String(t.remaining);
      h['x-ratelimit-reset-tokens'] = formatReset(t.resetMs);
    }
  }
}
