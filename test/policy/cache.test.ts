// The response cache through the real gateway (README, "Budgets, guardrails and cache").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { readUsageRows, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { chatBody, metric, metricsText, postJson, pricedHome } from './helpers.js';

let sim: SimUpstream;
const gateways = new TestGateways();
beforeAll(async () => {
  sim = await startSimUpstream();
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await gateways.cleanup();
  sim.requests.length = 0;
});

async function setup(cache: Record<string, unknown> = {}, env: Record<string, string> = { AI_BACKEND_ENABLE_CACHE: 'true' }) {
  const home = gateways.track(pricedHome(sim.url, { gateway: { cache }, budget: { max_budget_usd: 100, budget_window: '1d' } }));
  const gw = await gateways.start(home, { env });
  sim.requests.length = 0;
  return { home, gw, cacheDir: path.join(home.home, '.litellm_cache') };
}

const upstreamCalls = () => sim.requests.filter((q) => q.path.endsWith('/completions')).length;
const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []);
const waitForEntries = (dir: string, n: number) => waitFor(() => entries(dir).length === n, `${n} cache entries`);

async function spend(gw: GatewayChild): Promise<number> {
  return (await (await fetch(`${gw.url}/budgets`)).json()).budgets[0].spend_usd;
}

describe('cache through the gateway', () => {
  it('the same request twice: the second is a hit (header, cache_hit=1, cost 0, no upstream call, no spend)', async () => {
    const { gw, home, cacheDir } = await setup();
    const body = chatBody('what is the capital of France', { temperature: 0 });
    const first = await postJson(`${gw.url}/v1/chat/completions`, body);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-backend-cache')).toBe('miss');
    await waitForEntries(cacheDir, 1);
    const spent = await spend(gw);
    expect(spent).toBeGreaterThan(0);
    const second = await postJson(`${gw.url}/v1/chat/completions`, { ...body, user: 'another-user' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-backend-cache')).toBe('hit');
    expect(second.json.choices[0].message.content).toBe(first.json.choices[0].message.content);
    expect(upstreamCalls()).toBe(1);
    expect(await spend(gw)).toBe(spent);
    const m = await metricsText(gw.url);
    expect(metric(m, 'backend_llm_cache_requests_total{result="hit"}')).toBe(1);
    expect(metric(m, 'backend_llm_cache_requests_total{result="miss"}')).toBe(1);
    await gw.stop();
    const rows = readUsageRows(home.runtimeDir);
    expect(rows.map((r) => [r.cache_hit, r.cost_usd > 0])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(rows[1].cost_usd).toBe(0);
  });

  it('a streaming hit is valid SSE that the openai client reads; stream and plain share an entry', async () => {
    const { gw, cacheDir } = await setup();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'tell me a story' }];
    // miss, streamed: stored once assembled
    let missText = '';
    for await (const c of await client.chat.completions.create({ model: 'chat', messages, stream: true })) missText += c.choices[0]?.delta?.content ?? '';
    await waitForEntries(cacheDir, 1);
    // hit, streamed, with usage
    const stream = await client.chat.completions.create({ model: 'chat', messages, stream: true, stream_options: { include_usage: true } });
    let hitText = '';
    let usage: unknown = null;
    for await (const c of stream) {
      hitText += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(hitText).toBe(missText);
    expect(hitText.length).toBeGreaterThan(0);
    expect(usage).toMatchObject({ prompt_tokens: 4 }); // 'tell me a story': the sim counts words
    // hit, not streamed, from the entry a stream wrote
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages }).withResponse();
    expect(response.headers.get('x-backend-cache')).toBe('hit');
    expect(data.choices[0].message.content).toBe(missText);
    expect(upstreamCalls()).toBe(1);
  });

  it('TTL expiry makes the next request a miss', async () => {
    const { gw, cacheDir } = await setup({ ttl_s: 1 });
    const body = chatBody('ttl test');
    await postJson(`${gw.url}/v1/chat/completions`, body);
    await waitForEntries(cacheDir, 1);
    expect((await postJson(`${gw.url}/v1/chat/completions`, body)).headers.get('x-backend-cache')).toBe('hit');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await postJson(`${gw.url}/v1/chat/completions`, body)).headers.get('x-backend-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
  });

  it('Cache-Control: no-store skips the write, no-cache skips the lookup', async () => {
    const { gw, cacheDir } = await setup();
    const body = chatBody('cache control');
    const a = await postJson(`${gw.url}/v1/chat/completions`, body, { 'cache-control': 'no-store' });
    expect(a.headers.get('x-backend-cache')).toBe('miss');
    await new Promise((r) => setTimeout(r, 100));
    expect(entries(cacheDir)).toEqual([]);
    await postJson(`${gw.url}/v1/chat/completions`, body);
    await waitForEntries(cacheDir, 1);
    const c = await postJson(`${gw.url}/v1/chat/completions`, body, { 'cache-control': 'no-cache' });
    expect(c.headers.get('x-backend-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(3);
    expect((await postJson(`${gw.url}/v1/chat/completions`, body)).headers.get('x-backend-cache')).toBe('hit');
  });

  it('a corrupt entry is a miss: removed, answered from upstream and stored again', async () => {
    const { gw, cacheDir } = await setup();
    const body = chatBody('corrupt me');
    await postJson(`${gw.url}/v1/chat/completions`, body);
    await waitForEntries(cacheDir, 1);
    const file = path.join(cacheDir, entries(cacheDir)[0]);
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.slice(0, good.length - 10)); // truncated
    const r = await postJson(`${gw.url}/v1/chat/completions`, body);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-backend-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
    await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').length === good.length, 'the entry rewritten');
    expect((await postJson(`${gw.url}/v1/chat/completions`, body)).headers.get('x-backend-cache')).toBe('hit');
    expect(gw.logLines().some((l) => l.event === 'cache_entry_invalid')).toBe(true);
  });

  it('a cache dir that cannot be written: cache off with a warning, requests still served', async () => {
    const blocker = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-blocker-'));
    onTestFinished(() => fs.rmSync(blocker, { recursive: true, force: true }));
    fs.writeFileSync(path.join(blocker, 'file'), '');
    const { gw } = await setup({}, { AI_BACKEND_ENABLE_CACHE: 'true', AI_BACKEND_CACHE_DIR: path.join(blocker, 'file', 'cache') });
    const body = chatBody('no cache here');
    for (let i = 0; i < 2; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, body);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-backend-cache')).toBeNull();
    }
    expect(upstreamCalls()).toBe(2);
    expect(gw.logLines()).toContainEqual(expect.objectContaining({ level: 'warn', event: 'cache_disabled' }));
  });
});
