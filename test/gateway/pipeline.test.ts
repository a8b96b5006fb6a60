// The built-in callbacks wired into the real gateway: rejections by guardrails and budgets
// leave a row and send nothing upstream; a cache hit is replayed (JSON and SSE) without an
// upstream call and logged with cache_hit=1 and cost 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { type GatewayChild, readUsageRows, TestGateways, waitFor } from '../helpers/gateway.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();
let seq = 0;

beforeAll(async () => {
  sim = await startSimUpstream();
  home = gateways.simHome(sim.url, {
    models: {
      chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1, output_usd_per_1m: 1 } }] },
      // any spend exceeds this; the first request is admitted, the rest blocked
      capped: {
        capability: 'chat',
        budget: { max_budget_usd: 0.000001, budget_window: '1d', action: 'block' },
        targets: [{ provider: 'sim', model: 'capped-model', pricing: { input_usd_per_1m: 100, output_usd_per_1m: 100 } }],
      },
    },
    gateway: { cache: { enabled: true, ttl_s: 3600, max_bytes: 10_000_000 }, guardrails: { secrets: { action: 'block' } } },
    env: { AI_BACKEND_CACHE_DIR: 'cache-dir' },
  });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

async function post(body: object, headers: Record<string, string> = {}) {
  const id = `pipe-${++seq}`;
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
    body: JSON.stringify(body),
  });
  return { id, status: r.status, headers: r.headers, text: await r.text() };
}

const rowFor = (id: string) => waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === id), `row ${id}`);
const upstreamCalls = (model: string) => sim.requests.filter((q) => (q.body as any)?.model === model).length;

describe('pipeline in the gateway', () => {
  it('a guardrail block: 400 guardrail_violation, a row, nothing sent upstream', async () => {
    const before = sim.requests.length;
    const r = await post({ model: 'chat', messages: [{ role: 'user', content: 'my key ghp_' + 'a'.repeat(36) }] });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ type: 'invalid_request_error', code: 'guardrail_violation' });
    expect(r.text).not.toContain('ghp_');
    expect(sim.requests.length).toBe(before);
    const row = await rowFor(r.id);
    expect(row).toMatchObject({ status: 'error', http_status: 400, error_type: 'guardrail_violation' });
  });

  it('a budget block: 429 budget_exceeded after the spend, a row, nothing sent upstream', async () => {
    const first = await post({ model: 'capped', messages: [{ role: 'user', content: 'spend' }] });
    expect(first.status).toBe(200);
    await rowFor(first.id);
    const calls = upstreamCalls('capped-model');
    const r = await post({ model: 'capped', messages: [{ role: 'user', content: 'more' }] });
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text).error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(upstreamCalls('capped-model')).toBe(calls);
    const row = await rowFor(r.id);
    expect(row).toMatchObject({ status: 'error', http_status: 429, error_type: 'budget_exceeded' });
  });

  it('a cache hit (JSON) is answered without upstream, cache_hit=1 and cost 0', async () => {
    const body = { model: 'chat', messages: [{ role: 'user', content: 'cache me please' }], temperature: 0 };
    const miss = await post(body);
    expect(miss.headers.get('x-backend-cache')).toBe('miss');
    // the write is not awaited by the request, so the entry lands a moment later
    await waitFor(async () => (await post(body)).headers.get('x-backend-cache') === 'hit', 'a cache hit');
    const calls = upstreamCalls('sim-model');
    const hit = await post(body);
    expect(hit.headers.get('x-backend-cache')).toBe('hit');
    expect(upstreamCalls('sim-model')).toBe(calls);
    expect(JSON.parse(hit.text).choices).toEqual(JSON.parse(miss.text).choices);
    const row = await rowFor(hit.id);
    expect(row).toMatchObject({ status: 'success', cache_hit: 1, cost_usd: 0, provider: 'sim', concrete_model: 'sim-model' });

    // the same request streamed is replayed as SSE ending in [DONE]
    const s = await post({ ...body, stream: true });
    expect(s.headers.get('x-backend-cache')).toBe('hit');
    expect(s.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(s.text).toMatch(/data: \[DONE\]\n\n$/);
    expect(s.text).not.toContain('"usage"');
    expect(upstreamCalls('sim-model')).toBe(calls);
    const srow = await rowFor(s.id);
    expect(srow).toMatchObject({ stream: 1, cache_hit: 1, cost_usd: 0 });
  });

  it('Cache-Control: no-cache goes upstream', async () => {
    const body = { model: 'chat', messages: [{ role: 'user', content: 'fresh please' }] };
    await post(body);
    const calls = upstreamCalls('sim-model');
    const r = await post(body, { 'cache-control': 'no-cache' });
    expect(r.status).toBe(200);
    expect(upstreamCalls('sim-model')).toBe(calls + 1);
  });

  it('/budgets lists the model budget with its spend', async () => {
    const j = await (await fetch(`${gw.url}/budgets`)).json();
    const b = j.budgets.find((x: any) => x.scope === 'model' && x.target === 'capped');
    expect(b).toMatchObject({ max_budget_usd: 0.000001, action: 'block', exceeded: true });
    expect(b.spend_usd).toBeGreaterThan(0);
  });
});
