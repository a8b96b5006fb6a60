// Live budgets: from GET /budgets of the real gateway (with its master key), from the usage
// log when the gateway is down, and the last hour's spend the forecast is made from.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetEntry } from '../../src/config/schema.js';
import { openReaderDb, type Db } from '../../src/usage/db.js';
import { UsageLog } from '../../src/usage/log.js';
import { startSimUpstream } from '../../src/sim/upstream.js';
import { BudgetFeed } from '../../src/tui/data/budgetFeed.js';
import { forecast } from '../../src/tui/presentation/budgetView.js';
import { freePort, makeSimHome, startGateway } from '../helpers/gateway.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HOUR = 3600_000;
const budget = (target: string, max: number, window = '1d', seconds = 86400): BudgetEntry => ({
  scope: 'model',
  target,
  max_budget_usd: max,
  budget_window: window,
  window_seconds: seconds,
  action: 'warn',
});

function logWith(rows: Array<{ model: string; cost: number; agoMs: number }>): { db: Db; dbPath: string } {
  const dir = tempDir('ptui-budgets-');
  cleanups.push(() => dir.cleanup());
  const dbPath = path.join(dir.dir, 'llm_usage.db');
  const log = UsageLog.open(dbPath);
  for (const r of rows) log.insert(sampleRow({ logical_model: r.model, cost_usd: r.cost, timestamp: new Date(Date.now() - r.agoMs).toISOString() }));
  log.close();
  const db = openReaderDb(dbPath);
  cleanups.push(() => db.close());
  return { db, dbPath };
}

describe('BudgetFeed', () => {
  it('sums the usage log when there is no gateway to ask, fullest first, with the last hour’s spend', async () => {
    const { db } = logWith([
      { model: 'gpt-4', cost: 3, agoMs: 5 * HOUR },
      { model: 'gpt-4', cost: 1.5, agoMs: 10 * 60_000 },
      { model: 'code', cost: 9.5, agoMs: 2 * HOUR },
    ]);
    const budgets = [budget('gpt-4', 5), budget('code', 10)];
    const feed = new BudgetFeed({ refreshMs: 1000, gatewayUrl: () => null, masterKey: () => undefined, budgets: () => budgets, db: () => db });
    await feed.refresh();
    const s = feed.getSnapshot();
    expect(s.source).toBe('log');
    expect(s.rows.map((r) => [r.target, r.spend_usd, r.lastHourSpendUsd, r.exceeded])).toEqual([
      ['code', 9.5, 0, false],
      ['gpt-4', 4.5, 1.5, false],
    ]);
    // 0.5 left at 1.5 per hour: 20 minutes
    const gpt4 = forecast(s.rows[1]);
    expect(gpt4.kind).toBe('exceeds');
    expect(gpt4.kind === 'exceeds' && gpt4.inSeconds).toBeCloseTo(1200, 5);
    expect(forecast(s.rows[0])).toEqual({ kind: 'idle' });
  });

  it('falls back to the log when the gateway port answers nothing', async () => {
    const { db } = logWith([{ model: 'gpt-4', cost: 6, agoMs: 1000 }]);
    const port = await freePort();
    const feed = new BudgetFeed({
      refreshMs: 1000,
      gatewayUrl: () => `http://127.0.0.1:${port}`,
      masterKey: () => undefined,
      budgets: () => [budget('gpt-4', 5)],
      db: () => db,
    });
    await feed.refresh();
    expect(feed.getSnapshot().source).toBe('log');
    expect(feed.getSnapshot().rows[0]).toMatchObject({ spend_usd: 6, exceeded: true });
  });

  it('says spend is unknown with neither gateway nor log', async () => {
    const feed = new BudgetFeed({ refreshMs: 1000, gatewayUrl: () => null, masterKey: () => undefined, budgets: () => [budget('gpt-4', 5)], db: () => null });
    await feed.refresh();
    const s = feed.getSnapshot();
    expect(s.source).toBeNull();
    expect(s.notice).toContain('spend unknown');
    expect(s.rows[0]).toMatchObject({ spend_usd: 0, lastHourSpendUsd: null });
  });

  it('asks the real gateway’s /budgets with the master key, and falls back to the log without it', async () => {
    const sim = await startSimUpstream({ recordRequests: false });
    cleanups.push(() => sim.close());
    const home = makeSimHome(sim.url, {
      gateway: { master_key: 'sk-test-master-0000' },
      models: {
        chat: {
          capability: 'chat',
          budget: { max_budget_usd: 0.02, budget_window: '1h' },
          targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1000, output_usd_per_1m: 1000 } }],
        },
      },
    });
    cleanups.push(() => home.cleanup());
    const gw = await startGateway({ home: home.home });
    cleanups.push(() => gw.stop());
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-master-0000' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const budgets = [budget('chat', 0.02, '1h', 3600)];
    let key: string | undefined = 'sk-test-master-0000';
    const feed = new BudgetFeed({ refreshMs: 1000, gatewayUrl: () => gw.url, masterKey: () => key, budgets: () => budgets, db: () => null });
    await feed.refresh();
    let s = feed.getSnapshot();
    expect(s.source).toBe('gateway');
    const chat = s.rows.find((r) => r.scope === 'model' && r.target === 'chat')!;
    expect(chat.spend_usd).toBeGreaterThan(0);
    key = undefined; // 401 from the gateway: the dashboard must not show a stale or empty answer as live
    await feed.refresh();
    s = feed.getSnapshot();
    expect(s.source).toBeNull();
    expect(s.notice).toContain('spend unknown');
  });
});
