// Spend from the usage log (README, "Budgets"): rows older than a budget's window do
// not count, rows inside do, NULL/negative costs are ignored and counted, and the same spend
// comes back after a restart (a fresh tracker seeded from the same log).
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetsCallback } from '../../src/gateway/callbacks/budgets.js';
import { windowSeconds } from '../../src/config/schema.js';
import { computeBudgetStatus, ODD_COST_SQL, readSpendSeed } from '../../src/usage/spend.js';
import { harness, mappings, metricValue, PROVIDERS, usageRow, type Harness } from '../helpers/callbacks.js';

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

describe('computeBudgetStatus (the dashboard without a gateway)', () => {
  it('equals a brute-force sum of positive costs in (now - window, now] for every scope and window', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings() });
    const now = Date.now();
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const providers = ['paid', 'backup', null];
    const models = ['chat-paid', 'coder', null];
    const rows: Array<{ t: number; provider: string | null; model: string | null; cap: string | null; cost: number | null }> = [];
    for (let i = 0; i < 3000; i++) {
      const t = now - Math.floor(rnd() * 2 * 86400_000 * (rnd() < 0.5 ? 0.01 : 1));
      const r = rnd();
      const cost = r < 0.05 ? -rnd() : r < 0.1 ? null : Math.round(rnd() * 1e6) / 1e6;
      const model = models[Math.floor(rnd() * 3)];
      rows.push({ t, provider: providers[Math.floor(rnd() * 3)], model, cap: model === 'coder' ? 'code' : model ? 'chat' : null, cost });
    }
    const insert = (list: typeof rows) => {
      for (const r of list) {
        h!.deps.usage.insert(usageRow({ timestamp: iso(r.t), provider: r.provider, logical_model: r.model, capability: r.cap, cost_usd: r.cost }));
      }
    };
    insert(rows.slice(0, 2000));
    const check = (list: typeof rows) => {
      for (const window of ['30s', '5m', '1h', '12h', '1d']) {
        const budgets = [
          { scope: 'provider' as const, target: 'paid' },
          { scope: 'model' as const, target: 'chat-paid' },
          { scope: 'capability' as const, target: 'code' },
        ].map((b) => ({ ...b, max_budget_usd: 1, budget_window: window, window_seconds: windowSeconds(window), action: 'warn' as const }));
        const got = computeBudgetStatus(h!.deps.usage.db, budgets, now);
        for (const [i, b] of budgets.entries()) {
          const key = b.scope === 'provider' ? 'provider' : b.scope === 'model' ? 'model' : 'cap';
          const want = list
            .filter((r) => r[key] === b.target && r.t > now - b.window_seconds * 1000 && r.t <= now && (r.cost ?? 0) > 0)
            .reduce((s, r) => s + r.cost!, 0);
          expect(got[i].spend_usd, `${b.scope} ${b.target} ${window}`).toBeCloseTo(want, 9);
        }
      }
    };
    check(rows.slice(0, 2000));
    // rows (negative ones among them) written after the first call are seen by the next
    insert(rows.slice(2000));
    check(rows);
  });
});

describe('spend queries without the capability index (schema v6 dropped it)', () => {
  it('answer from the rollup and the time index', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 10, budget_window: '1d' } }) });
    h.deps.usage.insert(usageRow({ cost_usd: 2 }));
    h.deps.usage.insert(usageRow({ cost_usd: -1 }));
    const names = h.deps.usage.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_llm_usage_%'`).pluck().all();
    expect(names).not.toContain('idx_llm_usage_capability_ts');
    const seed = readSpendSeed(h.deps.usage.db, { sinceMs: Date.now() - H, rawSinceMs: null, rawGranularityMs: 60_000, afterId: 0 });
    expect(seed.invalidRows).toBe(1);
    expect(seed.minutes.reduce((s, r) => s + r.cost_usd, 0)).toBeCloseTo(2, 9);
    expect(computeBudgetStatus(h.deps.usage.db, h.config().budgets, Date.now())[0].spend_usd).toBeCloseTo(2, 9);
  });
});

describe('negative and missing costs come from their own partial index (schema v3)', () => {
  it('the seeding query searches idx_llm_usage_odd_cost by time, not a whole scope index', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 10, budget_window: '1d' } }) });
    const plan = (h.deps.usage.db.prepare(`EXPLAIN QUERY PLAN ${ODD_COST_SQL}`).all({ since: iso(Date.now() - H) }) as { detail: string }[])
      .map((p) => p.detail)
      .join(' | ');
    expect(plan).toBe('SEARCH llm_usage USING INDEX idx_llm_usage_odd_cost (timestamp>?)');
  });

  it('a log from before v3 (no partial index) still answers the same', () => {
    h = harness({ providers: PROVIDERS, mappings: mappings({ modelBudget: { max_budget_usd: 10, budget_window: '1d' } }) });
    h.deps.usage.insert(usageRow({ cost_usd: 2 }));
    h.deps.usage.insert(usageRow({ cost_usd: -1 }));
    h.deps.usage.insert(usageRow({ cost_usd: null, status: 'success' }));
    h.deps.usage.db.exec('DROP INDEX idx_llm_usage_odd_cost');
    const seed = readSpendSeed(h.deps.usage.db, { sinceMs: Date.now() - H, rawSinceMs: null, rawGranularityMs: 60_000, afterId: 0 });
    expect(seed.invalidRows).toBe(2);
    expect(seed.minutes.reduce((s, r) => s + r.cost_usd, 0)).toBeCloseTo(2, 9);
    expect(computeBudgetStatus(h.deps.usage.db, h.config().budgets, Date.now())[0].spend_usd).toBeCloseTo(2, 9);
  });
});
