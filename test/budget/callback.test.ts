// The budgets callback on real contexts, a real usage log and real metrics (README, "Budgets").
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetsCallback } from '../../src/gateway/callbacks/budgets.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { DEFAULT_COMPLETION_TOKENS, estimateTokens } from '../../src/gateway/budget/estimate.js';
import { harness, mappings, metricValue, PRICE, PROVIDERS, usageRow, type Harness } from '../helpers/callbacks.js';
import { makeContext, succeed } from '../helpers/context.js';

let h: Harness | undefined;
let cb: BudgetsCallback | undefined;
afterEach(() => {
  cb?.close();
  h?.close();
  cb = undefined;
  h = undefined;
});

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'chat-paid', messages: [{ role: 'user', content }], ...extra });

function setup(opts: { modelBudget?: unknown; capabilityBudget?: unknown; providers?: unknown; spent?: number }) {
  h = harness({ providers: opts.providers ?? PROVIDERS, mappings: mappings(opts) });
  if (opts.spent) h.deps.usage.insert(usageRow({ cost_usd: opts.spent }));
  cb = new BudgetsCallback(h.deps);
  return { h, cb };
}

function rejection(fn: () => void): GatewayError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
}

describe('warn budgets', () => {
  it('an exceeded warn budget lets the request through with x-backend-budget-warning and counts it', async () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1d' }, spent: 1 });
    const ctx = makeContext(h.config(), chat('hello'));
    cb.onRequest(ctx);
    expect(ctx.responseHeaders['x-backend-budget-warning']).toMatch(/model "chat-paid" spent \$1\.0000 of \$1\.0000 in the last 1d/);
    expect(await metricValue(h, 'backend_llm_budget_exceeded_total', { scope: 'model', target: 'chat-paid' })).toBe(1);
    expect(h.logs.filter((l) => l.event === 'budget_exceeded')).toHaveLength(1);
    // a second request counts again but does not log again within the minute
    cb.onRequest(makeContext(h.config(), chat('hello')));
    expect(await metricValue(h, 'backend_llm_budget_exceeded_total', { scope: 'model', target: 'chat-paid' })).toBe(2);
    expect(h.logs.filter((l) => l.event === 'budget_exceeded')).toHaveLength(1);
  });

  it('a budget whose name a header cannot carry still gives a valid header', () => {
    h = harness({
      providers: PROVIDERS,
      mappings: { capabilities: { chat: {} }, models: { 'modèle-测试': { capability: 'chat', budget: { max_budget_usd: 1, budget_window: '1d' }, targets: [{ provider: 'local', model: 'l' }] } } },
    });
    h.deps.usage.insert(usageRow({ logical_model: 'modèle-测试', cost_usd: 2 }));
    cb = new BudgetsCallback(h.deps);
    const ctx = makeContext(h.config(), { model: 'modèle-测试', messages: [] });
    cb.onRequest(ctx);
    const header = ctx.responseHeaders['x-backend-budget-warning'];
    expect(header).toMatch(/^model "mod\?le-\?\?" spent/);
    expect(/^[\x20-\x7e]+$/.test(header)).toBe(true);
  });

  it('below the limit there is no header and no count', async () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1d' }, spent: 0.99 });
    const ctx = makeContext(h.config(), chat('hello'));
    cb.onRequest(ctx);
    expect(ctx.responseHeaders['x-backend-budget-warning']).toBeUndefined();
    expect(await metricValue(h, 'backend_llm_budget_exceeded_total', { scope: 'model', target: 'chat-paid' })).toBe(0);
  });
});

describe('block budgets', () => {
  it('spend >= max answers 429 budget_exceeded, logged and counted', async () => {
    const { h, cb } = setup({ capabilityBudget: { max_budget_usd: 2, budget_window: '12h', action: 'block' }, spent: 2 });
    const err = rejection(() => cb.onRequest(makeContext(h.config(), chat('hi'))));
    expect(err?.status).toBe(429);
    expect(err).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(err?.message).toContain('capability "chat" spent $2.0000 of $2.0000 in the last 12h');
    expect(await metricValue(h, 'backend_llm_budget_exceeded_total', { scope: 'capability', target: 'chat' })).toBe(1);
    expect(h.logs.some((l) => l.event === 'budget_blocked')).toBe(true);
    // other capabilities are not affected
    expect(rejection(() => cb.onRequest(makeContext(h.config(), { model: 'coder', messages: [] })))).toBeNull();
  });

  it('reserves an estimate before the call and settles the real cost after it', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1d', action: 'block' }, spent: 0.9 });
    // 40 characters = 10 prompt tokens, 100 completion tokens, $1 per 1000 tokens: $0.11
    const first = makeContext(h.config(), chat('x'.repeat(40), { max_tokens: 100 }));
    cb.onRequest(first);
    // 0.9 + 0.11 in flight >= 1: the next one waits for the first to settle
    expect(rejection(() => cb.onRequest(makeContext(h.config(), chat('y', { max_tokens: 1 }))))?.status).toBe(429);
    cb.onSuccess(succeed(first, 0.05));
    expect(cb.status()[0].spend_usd).toBeCloseTo(0.95);
    const third = makeContext(h.config(), chat('y', { max_tokens: 1 }));
    expect(rejection(() => cb.onRequest(third))).toBeNull();
    // a failed request releases its reservation without spending
    third.error = new GatewayError(502, 'upstream_error', 'x');
    third.httpStatus = 502;
    cb.onError(third);
    expect(cb.status()[0].spend_usd).toBeCloseTo(0.95);
    expect(rejection(() => cb.onRequest(makeContext(h.config(), chat('y', { max_tokens: 1 }))))).toBeNull();
  });

  it('50 racing requests on a nearly spent budget end at most one estimate over the limit', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1d', action: 'block' }, spent: 0.95 });
    const body = chat('z'.repeat(36), { max_tokens: 10 });
    const ctxs = Array.from({ length: 50 }, () => makeContext(h.config(), structuredClone(body)));
    // every string of the body counts (what the upstream tokenizes), plus the 10 completion tokens
    const t = estimateTokens(body, 'chat');
    expect(t.completion_tokens).toBe(10);
    const estimate = t.total_tokens * (PRICE.input_usd_per_1m / 1e6);
    const admitted = ctxs.filter((c) => rejection(() => cb.onRequest(c)) === null);
    expect(admitted.length).toBe(Math.ceil(0.05 / estimate - 1e-9));
    expect(admitted.length).toBeLessThan(50);
    // every admitted request really costs its full estimate (the worst case)
    for (const c of admitted) cb.onSuccess(succeed(c, estimate));
    const spend = cb.status()[0].spend_usd;
    expect(spend).toBeGreaterThanOrEqual(1);
    expect(spend).toBeLessThan(1 + estimate + 1e-9);
  });

  it('without max_tokens the estimate assumes the default completion length', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 10, budget_window: '1d', action: 'block' }, spent: 10 - (DEFAULT_COMPLETION_TOKENS + 1) / 1000 + 0.0005 });
    cb.onRequest(makeContext(h.config(), chat('abcd')));
    // the first reserved ~$1.025 and the budget had less than that left
    expect(rejection(() => cb.onRequest(makeContext(h.config(), chat('abcd'))))?.status).toBe(429);
  });

  it('a blocked provider budget skips that provider; the request fails only when no target is left', async () => {
    const providers = structuredClone(PROVIDERS) as any;
    providers.providers.paid.budget = { max_budget_usd: 1, budget_window: '1h', action: 'block' };
    const { h, cb } = setup({ providers, spent: 1 });
    const ctx = makeContext(h.config(), chat('hi'));
    cb.onRequest(ctx);
    expect(ctx.targets.map((t) => t.provider)).toEqual(['backup']);
    // the config's own target list is untouched
    expect(h.config().models['chat-paid'].targets.map((t) => t.provider)).toEqual(['paid', 'backup']);
    expect(await metricValue(h, 'backend_llm_budget_exceeded_total', { scope: 'provider', target: 'paid' })).toBe(1);
    // a model served only by that provider is rejected
    const onlyPaid = structuredClone(mappings()) as any;
    onlyPaid.models['chat-paid'].targets = [onlyPaid.models['chat-paid'].targets[0]];
    h.reload({ providers, mappings: onlyPaid });
    cb.onConfig(h.config());
    const err = rejection(() => cb.onRequest(makeContext(h.config(), chat('hi'))));
    expect(err?.status).toBe(429);
    expect(err?.message).toContain('provider "paid"');
  });

  it('settles spend on the provider that answered (a fallback), the model and the capability', () => {
    const providers = structuredClone(PROVIDERS) as any;
    providers.providers.backup.budget = { max_budget_usd: 5, budget_window: '1h' };
    providers.providers.paid.budget = { max_budget_usd: 5, budget_window: '1h' };
    const { h, cb } = setup({ providers, modelBudget: { max_budget_usd: 5, budget_window: '1h' }, capabilityBudget: { max_budget_usd: 5, budget_window: '1h' } });
    const ctx = makeContext(h.config(), chat('hi'));
    cb.onRequest(ctx);
    cb.onSuccess(succeed(ctx, 0.25, ctx.targets[1]));
    const byKey = Object.fromEntries(cb.status().map((s) => [`${s.scope}:${s.target}`, s.spend_usd]));
    expect(byKey).toEqual({ 'provider:paid': 0, 'provider:backup': 0.25, 'model:chat-paid': 0.25, 'capability:chat': 0.25 });
  });

  it('a cache hit and an invalid cost move no spend; the invalid one is counted', async () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1h', action: 'block' } });
    const hit = makeContext(h.config(), chat('hi'));
    cb.onRequest(hit);
    hit.cacheHit = true;
    cb.onSuccess(succeed(hit, 0));
    const bad = makeContext(h.config(), chat('hi'));
    cb.onRequest(bad);
    cb.onSuccess(succeed(bad, Number.NaN));
    expect(cb.status()[0].spend_usd).toBe(0);
    expect(await metricValue(h, 'backend_budget_invalid_cost_rows_total')).toBe(1);
  });

  it('streamed and non-streamed requests of the same cost move spend identically', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1h', action: 'block' } });
    const plain = makeContext(h.config(), chat('hi'));
    cb.onRequest(plain);
    cb.onSuccess(succeed(plain, 0.125));
    const afterPlain = cb.status()[0].spend_usd;
    const streamed = makeContext(h.config(), chat('hi', { stream: true }));
    cb.onRequest(streamed);
    cb.onSuccess(succeed(streamed, 0.125));
    expect(cb.status()[0].spend_usd - afterPlain).toBe(afterPlain);
  });
});

describe('reload', () => {
  it('a window change takes effect at once (reseeded from the log) and budget_config.json is rewritten', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 10, budget_window: '1h' } });
    h.deps.usage.insert(usageRow({ timestamp: new Date(Date.now() - 3 * 3600_000).toISOString(), cost_usd: 4 }));
    h.deps.usage.insert(usageRow({ timestamp: new Date(Date.now() - 60_000).toISOString(), cost_usd: 1 }));
    const budgetJson = () => JSON.parse(fs.readFileSync(h.config().paths.budgetConfigJson, 'utf8')).budgets;
    // the tracker was seeded before these rows; reload reseeds only what changed
    h.reload({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 10, budget_window: '1d' } }) });
    cb.onConfig(h.config());
    expect(cb.status()[0]).toMatchObject({ budget_window: '1d', window_seconds: 86400, spend_usd: 5 });
    expect(budgetJson()).toEqual([expect.objectContaining({ scope: 'model', target: 'chat-paid', budget_window: '1d' })]);

    h.reload({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 10, budget_window: '30m' } }) });
    cb.onConfig(h.config());
    expect(cb.status()[0]).toMatchObject({ budget_window: '30m', spend_usd: 1 });
    expect(budgetJson()[0].budget_window).toBe('30m');

    // an unchanged budget keeps its live spend (including what was settled since the seed)
    const ctx = makeContext(h.config(), chat('hi'));
    cb.onRequest(ctx);
    cb.onSuccess(succeed(ctx, 0.5));
    h.reload({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 20, budget_window: '30m' } }) });
    cb.onConfig(h.config());
    expect(cb.status()[0]).toMatchObject({ max_budget_usd: 20, spend_usd: 1.5 });
  });

  it('requests in flight across a reload keep their reservation', () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 1, budget_window: '1d', action: 'block' }, spent: 0.9 });
    const inFlight = makeContext(h.config(), chat('x'.repeat(40), { max_tokens: 100 })); // reserves $0.11
    cb.onRequest(inFlight);
    // a change elsewhere in the config (the window stays), and one that changes the window
    for (const window of ['1d', '2d']) {
      h.reload({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 1, budget_window: window, action: 'block' } }) });
      cb.onConfig(h.config());
      expect(rejection(() => cb.onRequest(makeContext(h.config(), chat('y', { max_tokens: 1 }))))?.status, window).toBe(429);
    }
    cb.onSuccess(succeed(inFlight, 0.01));
    expect(cb.status()[0].spend_usd).toBeCloseTo(0.91);
    expect(rejection(() => cb.onRequest(makeContext(h.config(), chat('y', { max_tokens: 1 }))))).toBeNull();
  });

  it('budgets removed on reload disappear from status and the gauges', async () => {
    const { h, cb } = setup({ modelBudget: { max_budget_usd: 10, budget_window: '1h' } });
    expect(await metricValue(h, 'backend_llm_budget_limit_usd', { scope: 'model', target: 'chat-paid' })).toBe(10);
    h.reload({ providers: PROVIDERS, mappings: mappings() });
    cb.onConfig(h.config());
    expect(cb.status()).toEqual([]);
    const limits = await h.metrics.budgetLimit.get();
    expect(limits.values).toEqual([]);
  });

  it('budget_config.json is written at start', () => {
    const { h } = setup({ modelBudget: { max_budget_usd: 3, budget_window: '2h', action: 'block' } });
    const doc = JSON.parse(fs.readFileSync(h.config().paths.budgetConfigJson, 'utf8'));
    expect(doc.budgets).toEqual([{ scope: 'model', target: 'chat-paid', max_budget_usd: 3, budget_window: '2h', window_seconds: 7200, action: 'block' }]);
  });
});
