// Budgets through the real gateway: spend from the log, warn and block, reservations, and what a
// blocked client is told.
import fs from 'node:fs';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { readUsageRows, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { chatBody, metric, metricsText, postJson, prefillUsage, pricedHome } from './helpers.js';

let sim: SimUpstream;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await gateways.cleanup();
  sim.requests.length = 0;
  sim.setLatency(0);
});

const gateway = (home: TempHome, env: Record<string, string> = {}): Promise<GatewayChild> => gateways.start(home, { env });
const home = (o: Parameters<typeof pricedHome>[1]): TempHome => gateways.track(pricedHome(sim.url, o));

const H = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function budgets(gw: GatewayChild): Promise<any[]> {
  const r = await fetch(`${gw.url}/budgets`);
  return (await r.json()).budgets;
}

describe('budgets through the gateway', () => {
  it('/budgets serves money without binary-float residue (0.1 + 0.2 of spend is 0.3, 1 - 0.3 left is 0.7)', async () => {
    const h = home({ budget: { max_budget_usd: 1, budget_window: '1h' } });
    prefillUsage(h.runtimeDir, [
      { timestamp: ago(5 * 60_000), cost_usd: 0.1 },
      { timestamp: ago(4 * 60_000), cost_usd: 0.2 },
    ]);
    const gw = await gateway(h);
    const text = await (await fetch(`${gw.url}/budgets`)).text();
    expect(text).toContain('"spend_usd":0.3,');
    expect(text).toContain('"remaining_usd":0.7,');
    expect(text).not.toMatch(/\d{13,}/);
  });

  it('spend comes from the log: rows older than the window do not count, rows inside do, and a restart sees the same', async () => {
    const h = home({ budget: { max_budget_usd: 10, budget_window: '1h' } });
    prefillUsage(h.runtimeDir, [
      { timestamp: ago(5 * 60_000), cost_usd: 1.25 },
      { timestamp: ago(55 * 60_000), cost_usd: 2 },
      { timestamp: ago(2 * H), cost_usd: 4 }, // outside 1h
      { timestamp: ago(26 * H), cost_usd: 8 }, // outside
      { timestamp: ago(60_000), cost_usd: null }, // NULL on a success: ignored, counted
      { timestamp: ago(60_000), cost_usd: -5 }, // negative: ignored, counted
    ]);
    const gw = await gateway(h);
    const b = await budgets(gw);
    expect(b).toEqual([
      {
        scope: 'model',
        target: 'chat',
        max_budget_usd: 10,
        budget_window: '1h',
        window_seconds: 3600,
        action: 'warn',
        spend_usd: 3.25,
        remaining_usd: 6.75,
        exceeded: false,
      },
    ]);
    const m = await metricsText(gw.url);
    expect(metric(m, 'backend_budget_invalid_cost_rows_total')).toBe(2);
    expect(metric(m, 'backend_llm_budget_spend_usd{scope="model",target="chat"}')).toBe(3.25);
    expect(metric(m, 'backend_llm_budget_limit_usd{scope="model",target="chat"}')).toBe(10);
    // runtime/budget_config.json was written at start
    const doc = JSON.parse(fs.readFileSync(`${h.runtimeDir}/budget_config.json`, 'utf8'));
    expect(doc.budgets).toEqual([{ scope: 'model', target: 'chat', max_budget_usd: 10, budget_window: '1h', window_seconds: 3600, action: 'warn' }]);

    // spend added by a real request survives a restart
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('two words', { max_tokens: 3 }));
    expect(r.status).toBe(200);
    await waitFor(async () => (await budgets(gw))[0].spend_usd > 3.25, 'spend to move');
    const before = (await budgets(gw))[0].spend_usd;
    expect(before).toBeCloseTo(3.25 + (2 + 3) / 1000, 9);
    expect(await gw.stop()).toBe(0);
    const again = await gateway(h);
    expect((await budgets(again))[0].spend_usd).toBeCloseTo(before, 9);
  });

  it('a block budget at its limit answers 429 budget_exceeded, sends nothing upstream and logs the rejection', async () => {
    const h = home({ budget: { max_budget_usd: 1, budget_window: '1d', action: 'block' } });
    prefillUsage(h.runtimeDir, [{ timestamp: ago(60_000), cost_usd: 1 }]);
    const gw = await gateway(h);
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('hi'));
    expect(r.status).toBe(429);
    expect(r.json.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(r.json.error.message).toContain('model "chat"');
    // retrying cannot help until the spend leaves the window: say so, and say when
    expect(r.headers.get('x-should-retry')).toBe('false');
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    // the $1 was spent a minute ago in a 1d window of 6-minute buckets (its bucket counts until
    // the window has fully passed it, so up to one bucket longer)
    expect(retryAfter).toBeGreaterThan(86_400 - 60 - 360);
    expect(retryAfter).toBeLessThanOrEqual(86_400 + 360);
    // streamed requests are blocked the same way
    expect((await postJson(`${gw.url}/v1/chat/completions`, chatBody('hi', { stream: true }))).status).toBe(429);
    expect(sim.requests.filter((q) => q.path.includes('/chat/completions'))).toEqual([]);
    await gw.stop();
    const rows = readUsageRows(h.runtimeDir).filter((row) => !row.request_id.startsWith('prefill-'));
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.http_status === 429 && row.error_type === 'budget_exceeded' && row.status === 'error')).toBe(true);
    expect(gw.logLines().some((l) => l.event === 'budget_blocked')).toBe(true);
  });

  it('the official SDK does not retry a budget 429: one call, one row', async () => {
    const h = home({ budget: { max_budget_usd: 1, budget_window: '1d', action: 'block' } });
    prefillUsage(h.runtimeDir, [{ timestamp: ago(60_000), cost_usd: 1 }]);
    const gw = await gateway(h);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' }); // default: 2 retries
    const err = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe('insufficient_quota');
    await gw.stop();
    expect(readUsageRows(h.runtimeDir).filter((row) => !row.request_id.startsWith('prefill-'))).toHaveLength(1);
  });

  it('50 concurrent requests racing a nearly spent block budget end at most one in-flight estimate over', async () => {
    const h = home({ budget: { max_budget_usd: 1, budget_window: '1d', action: 'block' } });
    prefillUsage(h.runtimeDir, [{ timestamp: ago(60_000), cost_usd: 0.95 }]);
    const gw = await gateway(h);
    sim.setLatency(300); // all 50 are in flight together
    // 'hello there' = 11 chars -> 3 tokens estimated + 8 max_tokens = $0.011; real cost (2 + 8) / 1000
    const estimate = (Math.ceil('hello there'.length / 4) + 8) / 1000;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => postJson(`${gw.url}/v1/chat/completions`, chatBody('hello there', { max_tokens: 8, stream: i % 2 === 0 }))),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const blocked = results.filter((r) => r.status === 429).length;
    expect(ok + blocked).toBe(50);
    expect(ok).toBeGreaterThan(0);
    expect(blocked).toBeGreaterThan(0);
    expect(sim.requests.filter((q) => q.path.includes('/chat/completions'))).toHaveLength(ok);
    await gw.stop();
    const spend = readUsageRows(h.runtimeDir).reduce((s, row) => s + (row.cost_usd > 0 ? row.cost_usd : 0), 0);
    console.log(`budget race: ${ok} admitted, ${blocked} blocked, spend ${spend.toFixed(4)} of 1.0000 (estimate ${estimate})`);
    expect(spend).toBeLessThanOrEqual(1 + estimate + 1e-9);
    // and it did not stop early either: one more admitted request would have had room
    expect(spend + (2 + 8) / 1000).toBeGreaterThan(1 - estimate);
  });

  it('a warn budget passes requests with x-backend-budget-warning and counts the metric', async () => {
    const h = home({ budget: { max_budget_usd: 0.5, budget_window: '1d' } });
    prefillUsage(h.runtimeDir, [{ timestamp: ago(60_000), cost_usd: 0.75 }]);
    const gw = await gateway(h);
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('hi'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-backend-budget-warning')).toMatch(/^model "chat" spent \$0\.7500 of \$0\.5000 in the last 1d$/);
    expect(sim.requests.filter((q) => q.path.includes('/chat/completions'))).toHaveLength(1);
    const m = await metricsText(gw.url);
    expect(metric(m, 'backend_llm_budget_exceeded_total{scope="model",target="chat"}')).toBe(1);
    expect(gw.logLines().some((l) => l.event === 'budget_exceeded' && l.budget === 'model:chat')).toBe(true);
  });

  it('streamed and non-streamed requests move spend identically', async () => {
    const h = home({ budget: { max_budget_usd: 100, budget_window: '1d' } });
    const gw = await gateway(h);
    const spendNow = async () => (await budgets(gw))[0].spend_usd as number;
    const r1 = await postJson(`${gw.url}/v1/chat/completions`, chatBody('one two three', { max_tokens: 5 }));
    expect(r1.status).toBe(200);
    const afterPlain = await waitFor(async () => {
      const s = await spendNow();
      return s > 0 ? s : undefined;
    }, 'plain spend');
    const r2 = await postJson(`${gw.url}/v1/chat/completions`, chatBody('one two three', { max_tokens: 5, stream: true }));
    expect(r2.status).toBe(200);
    expect(r2.text).toContain('data: [DONE]');
    const afterStream = await waitFor(async () => {
      const s = await spendNow();
      return s > afterPlain ? s : undefined;
    }, 'streamed spend');
    expect(afterPlain).toBeCloseTo((3 + 5) / 1000, 9);
    expect(afterStream - afterPlain).toBeCloseTo(afterPlain, 9);
  });

  it('a window change on reload takes effect (spend reread from the log)', async () => {
    const h = home({ budget: { max_budget_usd: 10, budget_window: '1h' } });
    prefillUsage(h.runtimeDir, [
      { timestamp: ago(10 * 60_000), cost_usd: 1 },
      { timestamp: ago(5 * H), cost_usd: 2 },
    ]);
    const gw = await gateway(h);
    expect((await budgets(gw))[0]).toMatchObject({ budget_window: '1h', spend_usd: 1 });
    const file = `${h.configDir}/model-mappings.yaml`;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('budget_window: 1h', 'budget_window: 1d'));
    const b = await waitFor(async () => {
      const [x] = await budgets(gw);
      return x.budget_window === '1d' ? x : undefined;
    }, 'the reload');
    expect(b).toMatchObject({ window_seconds: 86400, spend_usd: 3 });
    await waitFor(
      () => JSON.parse(fs.readFileSync(`${h.runtimeDir}/budget_config.json`, 'utf8')).budgets[0].budget_window === '1d',
      'budget_config.json rewritten',
    );
  });

  it('a blocked provider budget falls back to a provider that may still spend', async () => {
    const h = home({
      providers: { sim2: { type: 'openai-compatible', api_base: `${sim.url}/v1` } },
      models: {
        chat: {
          capability: 'chat',
          targets: [
            { provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1000, output_usd_per_1m: 1000 } },
            { provider: 'sim2', model: 'sim-model' },
          ],
        },
        embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
      },
    });
    const file = `${h.configDir}/providers.yaml`;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/(\n\s+timeout_s: 30)/, '$1\n    budget: { max_budget_usd: 0.5, budget_window: 1d, action: block }'));
    prefillUsage(h.runtimeDir, [{ timestamp: ago(60_000), provider: 'sim', cost_usd: 0.5 }]);
    const gw = await gateway(h);
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('hi'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-backend-provider')).toBe('sim2');
    const m = await metricsText(gw.url);
    expect(metric(m, 'backend_llm_budget_exceeded_total{scope="provider",target="sim"}')).toBe(1);
  });
});
