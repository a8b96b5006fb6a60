// A real Prometheus scrapes the real gateway while it serves a mix of streams of different
// lengths; histogram_quantile(0.95) over the latency buckets must land within 10 % of the true
// p95 of the same requests (their latency_ms in the usage log, which the histogram observes).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { mulberry32 } from '../../src/usage/generate.js';
import type { TempHome } from '../helpers/config.js';
import { makeSimHome, readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { hasTool, TOOLS } from '../helpers/tools.js';

const REQUESTS = 240;
const CONCURRENCY = 24;
const CHUNK_MS = 8;

/** Completion lengths of a chat mix: mostly short answers, some long ones, a few very long. */
function streamLengths(n: number): number[] {
  const rand = mulberry32(7);
  return Array.from({ length: n }, () => {
    const r = rand();
    if (r < 0.7) return 5 + Math.floor(rand() * 40);
    if (r < 0.93) return 45 + Math.floor(rand() * 60);
    return 105 + Math.floor(rand() * 120);
  });
}

/** The nearest-rank quantile of the observed values. */
function trueQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

describe.runIf(hasTool(TOOLS.prometheus) && hasTool(TOOLS.promtool))('a real Prometheus scraping the gateway', () => {
  let sim: SimUpstream;
  let home: TempHome;
  let gw: GatewayChild;
  let prom: PrometheusServer;

  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: false, chunkIntervalMs: CHUNK_MS });
    home = makeSimHome(sim.url);
    gw = await startGateway({ home: home.home });
    prom = await startPrometheus(`127.0.0.1:${gw.port}`);
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    await gw?.stop();
    await sim?.close();
    home?.cleanup();
  });

  it('histogram_quantile(0.95) of a stream mix is within 10 % of the true p95; promtool is clean', async () => {
    const lengths = streamLengths(REQUESTS);
    let next = 0;
    const worker = async () => {
      while (next < lengths.length) {
        const maxTokens = lengths[next++];
        const r = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'chat', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(r.status).toBe(200);
        await r.text();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const rows = await waitFor(() => {
      const r = readUsageRows(home.runtimeDir);
      return r.length >= REQUESTS ? r : undefined;
    }, `${REQUESTS} rows`);
    expect(rows.every((r) => r.status === 'success' && r.stream === 1)).toBe(true);
    const truth = trueQuantile(rows.map((r) => r.latency_ms / 1000), 0.95);

    // Wait for a scrape taken after the last request.
    await waitFor(
      async () => (await prom.query('sum(backend_llm_latency_seconds_count{model="chat"})'))[0]?.value === REQUESTS,
      'prometheus to scrape every request',
      30_000,
      200,
    );
    const [p95] = await prom.query('histogram_quantile(0.95, sum by (le) (backend_llm_latency_seconds_bucket{model="chat"}))');
    const relativeError = Math.abs(p95.value - truth) / truth;
    console.log(`[prometheus] p95 of ${REQUESTS} streams: true ${truth.toFixed(3)} s, histogram_quantile ${p95.value.toFixed(3)} s`);
    expect(relativeError, `histogram_quantile ${p95.value} s against the true p95 ${truth} s`).toBeLessThan(0.1);

    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  }, 120_000);
});
