// The scraper against real HTTP servers on 127.0.0.1: the sim in engine mode, and small
// servers that misbehave in the ways the engine side must survive.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Provider } from '../../src/config/schema.js';
import { EngineMonitor } from '../../src/engines/monitor.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function sim(opts: Parameters<typeof startSimUpstream>[0]): Promise<SimUpstream> {
  const s = await startSimUpstream({ recordRequests: false, ...opts });
  closers.push(() => s.close());
  return s;
}

const vllm = (base: string, extra: Partial<Provider> = {}): Provider =>
  ({ type: 'openai-compatible', api_base: `${base}/v1`, timeout_s: 600, ...extra }) as Provider;

function monitor(providers: Record<string, Provider>, opts: ConstructorParameters<typeof EngineMonitor>[0] = {}) {
  const m = new EngineMonitor({ refreshMs: 60_000, timeoutMs: 500, ...opts });
  m.update(providers);
  closers.push(() => m.stop());
  return m;
}

const entry = (m: EngineMonitor, provider: string) => m.report().engines.find((e) => e.provider === provider);

async function chat(base: string, content: string, stream = false): Promise<void> {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content }], stream }),
  });
  await r.text();
}

describe('EngineMonitor', () => {
  it('reads a sim in vLLM mode: queue and KV at once, tok/s and p95 TTFT by the second refresh', async () => {
    const s = await sim({ engine: 'vllm', engineSettings: { waiting: 4, kvUsage: 0.5 }, latencyMs: 5 });
    const m = monitor({ vllm: vllm(s.url) }); // engine detected from the vllm: names
    await m.refresh();
    expect(entry(m, 'vllm')).toMatchObject({ engine: 'vllm', up: true, error: null, vllm: { waiting: 4, kv_usage: 0.5, running: 0 } });
    for (let i = 0; i < 10; i++) await chat(s.url, `hello ${i}`, i % 2 === 0);
    await m.refresh();
    const e = entry(m, 'vllm')!;
    expect(e.vllm!.generation_tokens_per_s).toBeGreaterThan(0);
    expect(e.vllm!.ttft_s.p95).toBeGreaterThan(0);
    expect(e.vllm!.finished_total!.stop).toBe(10);
    expect(e.scrape_age_s).toBeLessThan(5);
    expect(m.load('vllm')).toEqual({ up: true, waiting: 4, running: 0, kvUsage: 0.5 });
  });

  it('reads a sim in Ollama mode: loaded models with VRAM share and unload countdown, and the tags', async () => {
    const s = await sim({ engine: 'ollama', models: ['qwen:7b', 'llama:8b'] });
    s.engine!.set({ loaded: [{ name: 'qwen:7b', size: 1000, size_vram: 600, expires_at: new Date(Date.now() + 120_000).toISOString() }] });
    const m = monitor({ ollama: { type: 'ollama', api_base: `${s.url}/v1`, timeout_s: 600 } as Provider });
    await m.refresh();
    const e = entry(m, 'ollama')!;
    expect(e).toMatchObject({ engine: 'ollama', up: true });
    expect(e.ollama!.loaded[0]).toMatchObject({ name: 'qwen:7b', vram_share: 0.6, spill: 'partial' });
    expect(e.ollama!.loaded[0].unload_in_s).toBeGreaterThan(100);
    expect(e.ollama!.available.map((a) => a.name)).toEqual(['qwen:7b', 'llama:8b']);
  });

  it('marks a slow /metrics down with the reason, within its timeout', async () => {
    const base = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('vllm:num_requests_waiting 1\n'); // then never finishes
    });
    const m = monitor({ slow: vllm(base, { engine: 'vllm' }) }, { timeoutMs: 200 });
    await m.refresh();
    expect(entry(m, 'slow')).toMatchObject({ up: false, error: 'no answer within 200 ms' });
    expect(m.load('slow')!.up).toBe(false);
  });

  it('stops reading a huge /metrics at the byte cap', async () => {
    const line = 'vllm:num_requests_waiting{model_name="m"} 1\n';
    const base = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = line.repeat(2000);
      let sent = 0;
      const pump = () => {
        while (sent < 2000 && res.write(chunk)) sent++;
        if (sent < 2000) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    // A long scrape timeout: the byte cap, not the clock, must end this scrape, even on a busy machine.
    const m = monitor({ big: vllm(base, { engine: 'vllm' }) }, { maxMetricsBytes: 1024 * 1024, timeoutMs: 30_000 });
    await m.refresh();
    expect(entry(m, 'big')).toMatchObject({ up: false, error: expect.stringContaining('too large') });
  });

  it('marks an answer that is not Prometheus text down, and one with no vllm: names up with every figure unsupported', async () => {
    const html = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
    });
    const other = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('process_open_fds 12\ngo_goroutines NaN\nhttp_requests_total +Inf\n');
    });
    const m = monitor({ html: vllm(html, { engine: 'vllm' }), other: vllm(other, { engine: 'vllm' }) });
    await m.refresh();
    expect(entry(m, 'html')).toMatchObject({ up: false, error: expect.stringContaining('not Prometheus text') });
    const o = entry(m, 'other')!;
    expect(o.up).toBe(true);
    expect(o.vllm!.waiting).toBeNull();
    expect(o.vllm!.unsupported).toContain('waiting');
    expect(o.warnings.join(' ')).toMatch(/no vllm: metrics.*2 NaN\/Inf/);
  });

  it('keeps an OpenAI-compatible server without vllm: names out of /engines', async () => {
    const base = await server((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const m = monitor({ plain: vllm(base), cloud: { type: 'openai', api_base: `${base}/v1`, timeout_s: 600 } as Provider });
    await m.refresh();
    expect(m.report().engines).toEqual([]);
    expect(m.load('plain')).toBeUndefined();
  });

  it('scrapes carry x-ptui-scrape, and the sim does not count them as traffic', async () => {
    const s = await sim({ engine: 'vllm', recordRequests: true });
    const m = monitor({ v: vllm(s.url) });
    await m.refresh();
    expect(entry(m, 'v')?.up).toBe(true);
    expect(s.requests).toEqual([]);
    await chat(s.url, 'counted');
    expect(s.requests.map((r) => r.path)).toEqual(['/v1/chat/completions']);
  });

  it('never shows credentials written into an engine URL', async () => {
    const m = monitor({ creds: vllm('http://admin:hunter2@127.0.0.1:1', { engine: 'vllm' }) });
    await m.refresh();
    const text = JSON.stringify(m.report());
    expect(text).toContain('connection refused');
    expect(text).not.toContain('hunter2');
  });

  it('refuses an engine URL that points at the gateway itself', async () => {
    const self = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('backend_llm_requests_total{provider="x"} 3\n');
    });
    const port = Number(new URL(self).port);
    const byAddress = monitor({ loop: vllm('http://localhost:' + port, { engine: 'vllm' }) }, { self: () => ({ host: '127.0.0.1', port }) });
    await byAddress.refresh();
    expect(entry(byAddress, 'loop')).toMatchObject({ up: false, error: expect.stringContaining("this gateway's own address") });
    // Reached through another name the address check cannot know: the answer gives it away.
    const byContent = monitor({ loop: vllm(self, { engine: 'vllm' }) });
    await byContent.refresh();
    expect(entry(byContent, 'loop')).toMatchObject({ up: false, error: expect.stringContaining('ptui gateway') });
  });

  it('marks an engine that refuses connections down and keeps history across a reload of an unchanged provider', async () => {
    const s = await sim({ engine: 'vllm', engineSettings: { kvUsage: 0.3 } });
    const providers = { a: vllm(s.url, { engine: 'vllm' }), dead: vllm('http://127.0.0.1:1', { engine: 'vllm' }) };
    const m = monitor(providers);
    await m.refresh();
    expect(entry(m, 'dead')).toMatchObject({ up: false, error: 'connection refused' });
    await chat(s.url, 'x');
    m.update({ ...providers, a: { ...providers.a, gpu_usd_per_hour: 2 } });
    await m.refresh();
    const a = entry(m, 'a')!;
    expect(a.vllm!.generation_tokens_last_hour).toBe(8);
    expect(a.gpu_usd_per_hour).toBe(2);
    expect(a.usd_per_1m_generated_tokens).toBe(250_000);
  });
});
