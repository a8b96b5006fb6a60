// Spend from the usage log (SPEC §9, issue "done means" 1): rows older than a budget's window do
// not count, rows inside do, NULL/negative costs are ignored and counted, and the same spend
// comes back after a restart (a fresh tracker seeded from the same log).
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetsCallback } from '../../src/gateway/callbacks/budgets.js';
import { computeBudgetStatus, readSpendSeed } from '../../src/usage/spend.js';
import { harness, mappings, metricValue, PROVIDERS, usageRow, type Harness } from './helpers.js';

const H = 3600_000;
let h: Harness | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
});

const iso = (ms: number) => new Date(ms).toISOString();


describe('spend from the usage log', () => {
  it('counts rows inside the window, not older ones, and ignores NULL/negative costs (counted)', async () => {
    h = harness({
      providers: PROVIDERS,
      mappings: mappings({ modelBudget: { max_budget_usd: 100, budget_window: '1h' }, capabilityBudget: { max_budget_usd: 100, budget_window: '1d' } }),
    });
    const now = Date.now();
    const rows = [
      usageRow({ timestamp: iso(now - 10 * 60_000), cost_usd: 1.5 }), // inside 1h and 1d
      usageRow({ timestamp: iso(now - 50 * 60_000), cost_usd: 2 }), // inside 1h and 1d
      usageRow({ timestamp: iso(now - 3 * H), cost_usd: 4 }), // outside 1h, inside 1d
      usageRow({ timestamp: iso(now - 30 * H), cost_usd: 8 }), // outside both
      usageRow({ timestamp: iso(now - 5 * 60_000), cost_usd: null }), // NULL on a success: invalid
      usageRow({ timestamp: iso(now - 5 * 60_000), cost_usd: -3 }), // negative: invalid
      usageRow({ timestamp: iso(now - 5 * 60_000), cost_usd: null, status: 'error', http_status: 502 }), // an error with no cost: fine
      usageRow({ timestamp: iso(now - 5 * 60_000), cost_usd: 16, logical_model: 'other', capability: 'code' }), // other scope
    ];
    for (const r of rows) h.deps.usage.insert(r);

    const exact = computeBudgetStatus(h.deps.usage.db, h.config().budgets, now);
    expect(exact.map((s) => [s.scope, s.target, s.spend_usd])).toEqual([
      ['model', 'chat-paid', 3.5],
      ['capability', 'chat', 7.5],
    ]);

    const cb = new BudgetsCallback(h.deps);
    const live = cb.status();
    expect(live.map((s) => [s.scope, s.target, s.spend_usd])).toEqual([
      ['model', 'chat-paid', 3.5],
      ['capability', 'chat', 7.5],
    ]);
    expect(await metricValue(h, 'backend_budget_invalid_cost_rows_total')).toBe(2);
    expect(await metricValue(h, 'backend_llm_budget_spend_usd', { scope: 'capability', target: 'chat' })).toBe(7.5);
    expect(await metricValue(h, 'backend_llm_budget_limit_usd', { scope: 'model', target: 'chat-paid' })).toBe(100);
    expect(h.logs.some((l) => l.event === 'budget_invalid_cost_rows' && l.rows === 2)).toBe(true);

    // "restart": a second callback on the same log sees the same spend
    const again = new BudgetsCallback(h.deps);
    expect(again.status()).toEqual(live);
    cb.close();
    again.close();
  });

  it('invalid rows are counted once, not again on every reseed', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 1, budget_window: '1h' } }) });
    h.deps.usage.insert(usageRow({ cost_usd: -1 }));
    const q = (afterId: number) => ({ sinceMs: Date.now() - H, rawSinceMs: null, rawGranularityMs: 60_000, afterId });
    const first = readSpendSeed(h.deps.usage.db, q(0));
    expect(first.invalidRows).toBe(1);
    const second = readSpendSeed(h.deps.usage.db, q(first.maxId));
    expect(second.invalidRows).toBe(0);
    h.deps.usage.insert(usageRow({ cost_usd: null }));
    expect(readSpendSeed(h.deps.usage.db, q(first.maxId)).invalidRows).toBe(1);
  });

  it('minute rollup and raw rows agree, negative costs taken out of both', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings() });
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    h.deps.usage.insert(usageRow({ timestamp: at(90_000), cost_usd: 0.5 }));
    h.deps.usage.insert(usageRow({ timestamp: at(90_000), cost_usd: -0.25 })); // same minute, same scope
    h.deps.usage.insert(usageRow({ timestamp: at(30 * 60_000), cost_usd: 1, provider: 'backup' }));
    h.deps.usage.insert(usageRow({ timestamp: at(3 * H), cost_usd: 9 })); // before since
    const seed = readSpendSeed(h.deps.usage.db, { sinceMs: now - H, rawSinceMs: now - H, rawGranularityMs: 1000, afterId: 0 });
    const total = (rows: typeof seed.minutes) => rows.reduce((s, r) => s + r.cost_usd, 0);
    expect(total(seed.minutes)).toBeCloseTo(1.5, 9);
    expect(total(seed.raw)).toBeCloseTo(1.5, 9);
    expect(seed.minutes.every((r) => r.width_ms === 60_000 && r.bucket_ms % 60_000 === 0)).toBe(true);
    expect(seed.raw.every((r) => r.width_ms === 1000)).toBe(true);
    expect(seed.minutes.find((r) => r.provider === 'backup')?.cost_usd).toBe(1);
    expect(seed.invalidRows).toBe(1);
  });

  it('an empty log and a log without budgets are both fine', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings() });
    const cb = new BudgetsCallback(h.deps);
    expect(cb.status()).toEqual([]);
    expect(computeBudgetStatus(h.deps.usage.db, [], Date.now())).toEqual([]);
    cb.close();
  });
});
