// The gateway's figures are asked at every refresh while traffic flows or work is in flight,
// and once a quiet period on an idle box: a real HTTP server counts the questions, and the
// feeds are driven with chosen clock readings (refresh(now)), so nothing here waits on time.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PollRhythm } from '../../src/tui/data/pollRhythm.js';
import { BudgetFeed } from '../../src/tui/data/budgetFeed.js';
import { EngineFeed } from '../../src/tui/data/engineFeed.js';
import { GatewayAdmin } from '../../src/tui/data/gatewayAdmin.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in gateway that answers each path with what `answers` holds now, counting the questions. */
async function gateway(answers: Record<string, unknown>) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const body = answers[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, asked };
}

const QUIET = 5000;
const budgetStatus = (spend: number) => ({
  scope: 'model', target: 'gpt-4', max_budget_usd: 5, budget_window: '1d', window_seconds: 86400, action: 'warn',
  spend_usd: spend, remaining_usd: 5 - spend, exceeded: false,
});

describe('PollRhythm', () => {
  it('is due while the version moves and for a quiet period after, then once a quiet period', () => {
    let version = 1;
    const r = new PollRhythm(() => version, QUIET);
    const ask = (now: number) => {
      const due = r.due(now);
      if (due) r.answered(now);
      return due;
    };
    expect([0, 1000, 4000].map(ask)).toEqual([true, true, true]);
    expect([5000, 6000, 9000].map(ask)).toEqual([false, false, true]);
    expect([10_000, 13_000].map(ask)).toEqual([false, false]);
    version = 2;
    expect([13_500, 14_500, 18_400, 18_600].map(ask)).toEqual([true, true, true, false]);
  });

  it('is due at every call while busy, and again after a touch', () => {
    const r = new PollRhythm(() => 1, QUIET);
    r.due(0);
    r.answered(0);
    expect(r.due(6000)).toBe(true);
    r.answered(6000);
    expect(r.due(7000)).toBe(false);
    expect(r.due(7000, true)).toBe(true);
    r.touch(7000);
    expect(r.due(8000)).toBe(true);
  });

  it('keeps asking at every call until a question gets its answer', () => {
    const r = new PollRhythm(() => 1, QUIET);
    expect(r.due(0)).toBe(true);
    expect(r.due(6000)).toBe(true);
    expect(r.due(7000)).toBe(true);
    r.answered(7000);
    expect(r.due(8000)).toBe(false);
  });
});

describe('the feeds on a quiet box', () => {
  it('BudgetFeed asks GET /budgets at every refresh while requests are logged, once a quiet period otherwise, and shows the same rows between', async () => {
    const answers: Record<string, unknown> = { '/budgets': [budgetStatus(0.5)] };
    const gw = await gateway(answers);
    let newest = 10;
    const feed = new BudgetFeed({
      refreshMs: 1000, gatewayUrl: () => gw.url, masterKey: () => undefined, budgets: () => [], db: () => null,
      rhythm: new PollRhythm(() => newest, QUIET),
    });
    const count = () => gw.asked.filter((u) => u === '/budgets').length;
    for (const now of [0, 1000, 2000, 3000, 4000]) await feed.refresh(now);
    expect(count()).toBe(5);
    for (const now of [5000, 6000, 7000, 8000]) await feed.refresh(now);
    expect(count()).toBe(5);
    expect(feed.getSnapshot()).toMatchObject({ source: 'gateway', rows: [{ target: 'gpt-4', spend_usd: 0.5 }] });
    await feed.refresh(9000);
    expect(count()).toBe(6);
    // a request is logged: its spend is asked for at the next refresh
    newest = 11;
    answers['/budgets'] = [budgetStatus(0.75)];
    await feed.refresh(10_000);
    expect(count()).toBe(7);
    expect(feed.getSnapshot().rows[0].spend_usd).toBe(0.75);
  });

  it('BudgetFeed in shared mode asks at every refresh: other boxes spend without this log growing', async () => {
    const gw = await gateway({ '/budgets': { shared: { gateways: ['a', 'b'] }, budgets: [budgetStatus(1)] } });
    const feed = new BudgetFeed({
      refreshMs: 1000, gatewayUrl: () => gw.url, masterKey: () => undefined, budgets: () => [], db: () => null,
      rhythm: new PollRhythm(() => 1, QUIET),
    });
    for (const now of [0, 6000, 7000, 8000, 9000]) await feed.refresh(now);
    expect(gw.asked.length).toBe(5);
    expect(feed.getSnapshot().sharedGateways).toBe(2);
  });

  const provider = (over: Record<string, unknown> = {}) => ({
    name: 'vllm', state: 'active', in_flight: 0, consecutive_failures: 0, cooldown_s_left: null, saturated: null,
    engine: { up: true, running: 0, waiting: 0, kv_usage: 0.1 }, ...over,
  });

  it('EngineFeed asks once a quiet period when nothing is in flight, at every refresh while something is, and at once after an action', async () => {
    const answers: Record<string, unknown> = { '/engines': { refresh_s: 1, engines: [] }, '/admin/providers': { providers: [provider()] } };
    const gw = await gateway(answers);
    const admin = new GatewayAdmin({ gatewayUrl: () => gw.url, masterKey: () => undefined });
    const feed = new EngineFeed(admin, 1000, new PollRhythm(() => 1, QUIET));
    const count = () => gw.asked.filter((u) => u === '/admin/providers').length;
    for (const now of [0, 5000, 6000, 7000]) await feed.refresh(now);
    expect(count()).toBe(2);
    expect(gw.asked.filter((u) => u === '/engines').length).toBe(2);
    answers['/admin/providers'] = { providers: [provider({ in_flight: 2 })] };
    await feed.refresh(10_000);
    expect(feed.getSnapshot().routing[0].in_flight).toBe(2);
    for (const now of [11_000, 12_000]) await feed.refresh(now);
    expect(count()).toBe(5);
    answers['/admin/providers'] = { providers: [provider()] };
    for (const now of [13_000, 14_000, 15_000]) await feed.refresh(now);
    expect(count()).toBe(6);
    await feed.refreshSoon(15_500);
    await feed.refresh(16_500);
    expect(count()).toBe(8);
  });

  it('EngineFeed asks again at every refresh while the gateway does not answer', async () => {
    const gw = await gateway({});
    const feed = new EngineFeed(new GatewayAdmin({ gatewayUrl: () => gw.url, masterKey: () => undefined }), 1000, new PollRhythm(() => 1, QUIET));
    for (const now of [0, 6000, 7000, 8000]) await feed.refresh(now);
    expect(gw.asked.filter((u) => u === '/engines').length).toBe(4);
    expect(feed.getSnapshot()).toMatchObject({ updatedAt: null, notice: expect.stringContaining('HTTP 404') });
  });
});
