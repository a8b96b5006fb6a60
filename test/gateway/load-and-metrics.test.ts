// Done-means 2 and 3: 1,000 concurrent requests leave 1,000 rows, and /metrics (which passes
// promtool) agrees with the usage log on request counts, token sums and cost sums.
import { execFileSync } from 'node:child_process';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { type GatewayChild, readUsageRows, TestGateways, waitFor } from '../helpers/gateway.js';
import { hasTool, TOOLS } from '../helpers/tools.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();
const agent = new Agent({ connections: 2000, pipelining: 1 });

beforeAll(async () => {
  sim = await startSimUpstream({ recordRequests: false });
  home = gateways.simHome(sim.url, {
    models: {
      chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 3, output_usd_per_1m: 15 } }] },
      cheap: { capability: 'chat', targets: [{ provider: 'sim', model: 'cheap' }] },
      broken: { capability: 'chat', targets: [{ provider: 'sim', model: 'x@500' }] },
      slow: { capability: 'chat', targets: [{ provider: 'sim', model: 'x@slow' }] },
      embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'e', pricing: { input_usd_per_1m: 0.1, output_usd_per_1m: 0 } }] },
    },
  });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
  await agent.close();
});

async function send(path: string, body: object): Promise<number> {
  const r = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    // @ts-expect-error undici dispatcher option on Node's fetch
    dispatcher: agent,
  });
  await r.arrayBuffer();
  return r.status;
}

function request(i: number): Promise<number> {
  const words = 'w '.repeat((i % 7) + 1).trim();
  switch (i % 6) {
    case 0:
      return send('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: words }] });
    case 1:
      return send('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: words }], stream: true, max_tokens: (i % 5) + 1 });
    case 2:
      return send('/v1/completions', { model: 'cheap', prompt: words });
    case 3:
      return send('/v1/embeddings', { model: 'embed', input: words });
    case 4:
      return send('/v1/chat/completions', { model: 'broken', messages: [] });
    default:
      return Math.floor(i / 6) % 2
        ? send('/v1/chat/completions', { model: 'unknown-model', messages: [] })
        : send('/v1/chat/completions', { model: 'chat', messages: 'not an array' });
  }
}

type Sample = { name: string; labels: Record<string, string>; value: number };

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Sample[], name: string, filter: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);

describe('under load', () => {
  it('1,000 concurrent requests leave exactly 1,000 rows', async () => {
    const statuses = await Promise.all(Array.from({ length: 1000 }, (_, i) => request(i)));
    const expected = statuses.map((_, i) => [200, 200, 200, 200, 502, Math.floor(i / 6) % 2 ? 404 : 400][i % 6]);
    expect(statuses).toEqual(expected);
    const rows = await waitFor(() => {
      const r = readUsageRows(home.runtimeDir);
      return r.length >= 1000 ? r : undefined;
    }, '1000 rows', 20_000);
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(1000);
    expect(rows.filter((r) => r.status === 'success')).toHaveLength(statuses.filter((s) => s === 200).length);
    expect(rows.filter((r) => r.http_status === 502 && r.error_type === 'upstream_error')).toHaveLength(statuses.filter((s) => s === 502).length);
  });

  it.runIf(hasTool(TOOLS.promtool))('/metrics passes promtool and matches the usage log', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    execFileSync('promtool', ['check', 'metrics'], { input: text });

    const samples = parseMetrics(text);
    const rows = readUsageRows(home.runtimeDir);
    expect(sum(samples, 'backend_llm_requests_total')).toBe(rows.length);
    expect(sum(samples, 'backend_llm_requests_total', { status: 'success' })).toBe(rows.filter((r) => r.status === 'success').length);
    expect(sum(samples, 'backend_llm_requests_total', { status: 'error' })).toBe(rows.filter((r) => r.status === 'error').length);
    // per model (known models by name, the made-up one as `unknown`)
    for (const model of ['chat', 'cheap', 'broken', 'embed']) {
      expect(sum(samples, 'backend_llm_requests_total', { model })).toBe(rows.filter((r) => r.logical_model === model).length);
    }
    const tokens = (k: string) => rows.reduce((a, r) => a + (r[k] ?? 0), 0);
    expect(sum(samples, 'backend_llm_tokens_total', { type: 'prompt' })).toBe(tokens('prompt_tokens'));
    expect(sum(samples, 'backend_llm_tokens_total', { type: 'completion' })).toBe(tokens('completion_tokens'));
    expect(tokens('completion_tokens')).toBeGreaterThan(0);
    const cost = rows.reduce((a, r) => a + (r.cost_usd ?? 0), 0);
    expect(cost).toBeGreaterThan(0);
    expect(sum(samples, 'backend_llm_cost_usd_total')).toBeCloseTo(cost, 9);
    expect(sum(samples, 'backend_llm_latency_seconds_count')).toBe(rows.length);
    expect(sum(samples, 'backend_llm_gateway_overhead_seconds_count')).toBe(rows.length);
    // every failed row counted once under its error_type: 400, 404 and 502 told apart
    const failedRows = rows.filter((r) => r.status === 'error');
    expect(new Set(failedRows.map((r) => r.error_type))).toEqual(new Set(['invalid_request_error', 'model_not_found', 'upstream_error']));
    for (const type of new Set(failedRows.map((r) => r.error_type as string))) {
      expect(sum(samples, 'backend_llm_errors_total', { error_type: type })).toBe(failedRows.filter((r) => r.error_type === type).length);
    }
    expect(sum(samples, 'backend_llm_errors_total', { model: 'broken', provider: 'sim', error_type: 'upstream_error' })).toBe(
      rows.filter((r) => r.logical_model === 'broken').length,
    );
    // nothing in flight once every request has answered
    expect(samples.filter((s) => s.name === 'backend_llm_requests_in_flight' && s.value !== 0)).toEqual([]);
    // prom-client's process metrics, without the three gauges promtool rejects
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(samples.some((s) => s.name === name)).toBe(true);
    }
    expect(samples.filter((s) => /^nodejs_active_\w+_total$/.test(s.name))).toEqual([]);
    // streamed successes have a time to first token
    expect(sum(samples, 'backend_llm_time_to_first_token_seconds_count')).toBe(rows.filter((r) => r.stream === 1 && r.ttft_ms !== null).length);
  });

  it('backend_llm_requests_in_flight counts a stream while it runs, and 0 after', async () => {
    const inFlight = async () =>
      sum(parseMetrics(await (await fetch(`${gw.url}/metrics`)).text()), 'backend_llm_requests_in_flight', { provider: 'sim' });
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = r.body!.getReader();
    await reader.read(); // the first chunk is here; the other nine are 200 ms apart: the upstream request is open
    expect(await inFlight()).toBe(1);
    while (!(await reader.read()).done);
    await waitFor(async () => (await inFlight()) === 0, 'in-flight back to 0');
  });

  it('/health/targets probes each provider', async () => {
    const j = await (await fetch(`${gw.url}/health/targets`)).json();
    expect(j.providers).toEqual([expect.objectContaining({ provider: 'sim', ok: true, status: 200 })]);
    expect(j.targets).toHaveLength(5);
    expect(j.targets.every((t: { ok: boolean }) => t.ok)).toBe(true);
  });
});
