// Engines and routing through the real gateway: four sims in vLLM mode and one in Ollama mode
// behind balanced models, a /metrics that never finishes, and an engine URL that is the
// gateway's own. Scrapes run every 100 ms (PTUI_ENGINE_REFRESH_MS) so state changes show fast.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminProvidersSchema } from '../../src/engines/routing-view.js';
import { enginesReportSchema } from '../../src/engines/types.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { freePort, type GatewayChild, TestGateways, waitFor } from '../helpers/gateway.js';
import { makeHome } from '../helpers/config.js';
import { hasTool, TOOLS } from '../helpers/tools.js';

const KEY = 'sk-engines-test-master-key';
const auth = { authorization: `Bearer ${KEY}` };
const gateways = new TestGateways();
const sims: Record<'a' | 'b' | 'c' | 'd' | 'ollama', SimUpstream> = {} as never;
let gw: GatewayChild;
let stuck: http.Server;
/** each scrape of the stuck /metrics: when it was opened and when the gateway gave up on it */
const stuckScrapes: Array<{ opened: number; closed: number | null }> = [];

const chats = (s: SimUpstream) => s.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

beforeAll(async () => {
  for (const name of ['a', 'b', 'c', 'd'] as const) sims[name] = await startSimUpstream({ engine: 'vllm' });
  sims.ollama = await startSimUpstream({ engine: 'ollama', models: ['qwen2.5:7b'] });
  // A /metrics that answers headers and then nothing, ever.
  stuck = http.createServer((req, res) => {
    const scrape = { opened: performance.now(), closed: null as number | null };
    stuckScrapes.push(scrape);
    res.on('close', () => (scrape.closed = performance.now()));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('vllm:num_requests_waiting 1\n');
  });
  await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
  const stuckUrl = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}/metrics`;
  const port = await freePort();
  const vllm = (s: SimUpstream, extra: Record<string, unknown> = {}) => ({
    type: 'openai-compatible',
    api_base: `${s.url}/v1`,
    timeout_s: 30,
    saturation: { max_waiting: 8, max_kv_usage: 0.95 },
    ...extra,
  });
  const home = gateways.track(
    makeHome({
      providers: {
        providers: {
          a: vllm(sims.a, { gpu_usd_per_hour: 2 }),
          b: vllm(sims.b),
          c: vllm(sims.c, { cooldown: { failures: 3, seconds: 60 } }),
          d: vllm(sims.d),
          ollama: { type: 'ollama', api_base: `${sims.ollama.url}/v1`, timeout_s: 30 },
          stuck: { ...vllm(sims.d), engine: 'vllm', metrics_url: stuckUrl },
          loop: { type: 'openai-compatible', api_base: `${sims.d.url}/v1`, engine: 'vllm', metrics_url: `http://localhost:${port}/metrics` },
        },
      },
      mappings: {
        capabilities: { chat: {} },
        models: {
          bal: { capability: 'chat', routing: 'balanced', targets: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }] },
          cool: { capability: 'chat', routing: 'balanced', targets: [{ provider: 'c', model: 'm' }, { provider: 'd', model: 'm' }] },
          stuckm: { capability: 'chat', targets: [{ provider: 'stuck', model: 'm' }] },
        },
      },
      gateway: { master_key: KEY },
    }),
  );
  gw = await gateways.start(home, { port, env: { PTUI_ENGINE_REFRESH_MS: '100' } });
});

afterAll(async () => {
  await gateways.cleanup();
  for (const s of Object.values(sims)) await s?.close();
  stuck?.closeAllConnections();
  await new Promise<void>((r) => (stuck ? stuck.close(() => r()) : r()));
});

async function chat(model: string, content = 'hello there', stream = false) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], stream }),
  });
  const text = await r.text();
  return { status: r.status, provider: r.headers.get('x-backend-provider'), routing: r.headers.get('x-backend-routing'), text };
}

async function getJson(path: string, headers: Record<string, string> = auth): Promise<any> {
  const r = await fetch(`${gw.url}${path}`, { headers });
  return { status: r.status, body: await r.json() };
}

const engine = async (provider: string) => (await getJson('/engines')).body.engines.find((e: { provider: string }) => e.provider === provider);
const routingOf = async (provider: string) => (await getJson('/admin/providers')).body.providers.find((p: { name: string }) => p.name === provider);

async function post(path: string) {
  const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: auth });
  return { status: r.status, body: await r.json() };
}

describe('GET /engines and the backend_engine_* gauges', () => {
  it('needs the master key', async () => {
    expect((await getJson('/engines', {})).status).toBe(401);
    expect((await getJson('/admin/providers', {})).status).toBe(401);
  });

  it('shows running, waiting, KV %, tok/s and p95 TTFT from a vLLM sim, and loaded models from an Ollama sim', async () => {
    sims.a.engine!.set({ waiting: 2, kvUsage: 0.25 });
    for (let i = 0; i < 6; i++) expect((await chat('bal', `warm ${i}`, i % 2 === 0)).status).toBe(200);
    const a = await waitFor(async () => {
      const e = await engine('a');
      return e?.vllm?.generation_tokens_per_s > 0 && e.vllm.ttft_s.p95 !== null && e;
    }, 'tok/s and p95 TTFT in /engines');
    expect(a).toMatchObject({ engine: 'vllm', up: true, gpu_usd_per_hour: 2, vllm: { waiting: 2, kv_usage: 0.25, running: 0 } });
    expect(a.scrape_age_s).toBeLessThan(10);
    const o = await engine('ollama');
    expect(o).toMatchObject({ engine: 'ollama', up: true });
    expect(o.ollama.loaded[0]).toMatchObject({ name: 'qwen2.5:7b', vram_share: 1, spill: 'none' });
    // The console reads this shape: it must check out against the published schema.
    expect(enginesReportSchema.safeParse((await getJson('/engines')).body).success).toBe(true);
  });

  it('an engine that does not answer is up: false with the reason, and never slows a request', async () => {
    const e = await waitFor(async () => {
      const x = await engine('stuck');
      return x?.error?.startsWith('no answer') && x;
    }, 'the stuck engine to be reported');
    expect(e).toMatchObject({ up: false, error: expect.stringContaining('no answer within') });
    // Requests to that provider are served while a scrape of it hangs: one of them starts and
    // ends inside one hanging scrape (each lasts the 1.5 s scrape timeout). On a busy machine a
    // request can fall between two scrapes, so keep sending (every one must succeed) until one
    // lands inside.
    let overlapped = 0;
    for (let i = 0; i < 50 && overlapped === 0; i++) {
      const start = performance.now();
      const r = await chat('stuckm');
      const end = performance.now();
      expect(r.status).toBe(200);
      if (stuckScrapes.some((s) => s.opened < start && (s.closed === null || s.closed > end))) overlapped++;
    }
    expect(overlapped).toBeGreaterThan(0);
  });

  it('refuses an engine URL that points at the gateway itself', async () => {
    const e = await waitFor(async () => {
      const x = await engine('loop');
      return x?.error && x.error !== 'not scraped yet' && x;
    }, 'the looping engine to be reported');
    expect(e).toMatchObject({ up: false, error: expect.stringContaining("this gateway's own address") });
  });

  it('/metrics re-exports running, waiting, KV usage and up by provider', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/^backend_engine_up\{provider="a"\} 1$/m);
    expect(text).toMatch(/^backend_engine_up\{provider="stuck"\} 0$/m);
    expect(text).toMatch(/^backend_engine_waiting_requests\{provider="a"\} 2$/m);
    expect(text).toMatch(/^backend_engine_kv_cache_usage_ratio\{provider="a"\} 0.25$/m);
    expect(text).toMatch(/^backend_engine_running_requests\{provider="b"\} 0$/m);
    // no made-up figures for engines that are down
    expect(text).not.toMatch(/^backend_engine_waiting_requests\{provider="stuck"\}/m);
    if (hasTool(TOOLS.promtool)) execFileSync('promtool', ['check', 'metrics'], { input: text });
  });
});

describe('balanced routing over two sims', () => {
  it('splits 1,000 requests within 60/40', async () => {
    sims.a.engine!.set({ waiting: 0, kvUsage: 0 });
    await waitFor(async () => (await engine('a'))?.vllm?.waiting === 0, 'a queue of 0');
    const before = { a: chats(sims.a), b: chats(sims.b) };
    let next = 0;
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 1000) {
          const i = next++;
          const r = await chat('bal', `request ${i}`, i % 3 === 0);
          if (r.status !== 200) failures.push(r.status);
        }
      }),
    );
    expect(failures).toEqual([]);
    const a = chats(sims.a) - before.a;
    const b = chats(sims.b) - before.b;
    expect(a + b).toBe(1000);
    expect(a).toBeGreaterThanOrEqual(400);
    expect(a).toBeLessThanOrEqual(600);
  }, 180_000);

  it('sends a saturated sim nothing while the other can serve', async () => {
    sims.a.engine!.set({ waiting: 20 });
    await waitFor(async () => (await routingOf('a'))?.saturated === true, 'a saturated in /admin/providers');
    const before = chats(sims.a);
    for (let i = 0; i < 40; i++) {
      const r = await chat('bal', `s ${i}`);
      expect(r).toMatchObject({ status: 200, provider: 'b', routing: null });
    }
    expect(chats(sims.a)).toBe(before);
    // KV usage saturates just the same.
    sims.a.engine!.set({ waiting: 0, kvUsage: 0.97 });
    await waitFor(async () => (await engine('a'))?.vllm?.kv_usage === 0.97, 'a KV at 97 %');
    for (let i = 0; i < 10; i++) expect((await chat('bal', `k ${i}`)).provider).toBe('b');
    expect(chats(sims.a)).toBe(before);
  });

  it('every target saturated: served anyway in order, and says so', async () => {
    sims.b.engine!.set({ waiting: 30 });
    await waitFor(async () => (await routingOf('b'))?.saturated === true, 'b saturated');
    const r = await chat('bal', 'all busy');
    expect(r.status).toBe(200);
    expect(r.provider).toBe('a');
    expect(r.routing).toMatch(/every target was passed over \(a saturated, b saturated\); served anyway in order/);
    expect(gw.logLines().some((l) => l.event === 'routing_all_passed_over')).toBe(true);
    sims.a.engine!.set({ kvUsage: 0 });
    sims.b.engine!.set({ waiting: 0 });
    await waitFor(async () => (await routingOf('a'))?.saturated === false && (await routingOf('b'))?.saturated === false, 'both unsaturated');
  });

  it('cools a failing target down, logs it, and keeps every client request successful', async () => {
    sims.c.setMode('500');
    const results: Array<string | null> = [];
    for (let i = 0; i < 12; i++) {
      const r = await chat('cool', `c ${i}`);
      expect(r.status).toBe(200);
      results.push(r.provider);
    }
    expect(results.every((p) => p === 'd')).toBe(true);
    const line = gw.logLines().find((l) => l.event === 'provider_cooled_down' && l.provider === 'c');
    expect(line).toMatchObject({ consecutive_failures: 3, seconds: 60 });
    const tried = chats(sims.c);
    for (let i = 0; i < 10; i++) expect((await chat('cool', `after ${i}`)).provider).toBe('d');
    expect(chats(sims.c)).toBe(tried); // skipped while cooling: no request pays c's failure
    expect(await routingOf('c')).toMatchObject({ state: 'cooling_down', consecutive_failures: 3 });
    expect((await routingOf('c')).cooldown_s_left).toBeGreaterThan(0);
    const targets = (await getJson('/health/targets')).body.targets.filter((t: { model: string }) => t.model === 'cool');
    expect(targets.map((t: { provider: string; state: string }) => [t.provider, t.state])).toEqual([
      ['c', 'cooling_down'],
      ['d', 'active'],
    ]);
    sims.c.setMode('ok');
  });
});

describe('drain', () => {
  it('a drained provider gets no new request; undrain brings it back', async () => {
    const r = await post('/admin/providers/a/drain');
    expect(r.status).toBe(200);
    expect(['draining', 'drained']).toContain(r.body.state);
    const before = chats(sims.a);
    for (let i = 0; i < 10; i++) expect((await chat('bal', `d ${i}`)).provider).toBe('b');
    expect(chats(sims.a)).toBe(before);
    expect(await routingOf('a')).toMatchObject({ state: 'drained', in_flight: 0 });
    expect(adminProvidersSchema.safeParse((await getJson('/admin/providers')).body).success).toBe(true);
    expect(gw.logLines().some((l) => l.event === 'provider_drained' && l.provider === 'a')).toBe(true);
    expect((await post('/admin/providers/a/undrain')).body.state).toBe('active');
    const seen = new Set<string | null>();
    for (let i = 0; i < 6; i++) seen.add((await chat('bal', `u ${i}`)).provider);
    expect(seen).toEqual(new Set(['a', 'b']));
  });

  it('every target drained: 503 with the reason; unknown provider: 404', async () => {
    await post('/admin/providers/a/drain');
    await post('/admin/providers/b/drain');
    const r = await chat('bal', 'nobody home');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).error).toMatchObject({ code: 'no_target_available', message: expect.stringContaining('drained (a, b)') });
    await post('/admin/providers/a/undrain');
    await post('/admin/providers/b/undrain');
    expect((await chat('bal', 'back')).status).toBe(200);
    const u = await post('/admin/providers/nope/drain');
    expect(u.status).toBe(404);
    expect(u.body.error.message).toContain('unknown provider "nope"');
    const noKey = await fetch(`${gw.url}/admin/providers/a/drain`, { method: 'POST' });
    expect(noKey.status).toBe(401);
    await noKey.arrayBuffer();
  });
});
