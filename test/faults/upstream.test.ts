// A hostile upstream against the real gateway: a non-streamed body that never ends, an SSE line
// that never ends, a stream of comments only, and a client that leaves a priced stream half-way.
// What must hold: each request ends (502 over max_response_bytes, 504 when no event comes in
// time), has one row, and its upstream connection is closed; the gateway's memory comes back;
// requests next to it are served; a stream cut short is charged the tokens it ran up.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimRequest, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { chatWithId, readUsageRows, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { mib, rssBytes } from '../helpers/load.js';
import { expectErrorBody } from '../helpers/openai-errors.js';
import { pick } from './fixture.js';
import { report } from './report.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;
const FIRST_TOKEN_TIMEOUT_S = 1;
/** $1 per 1000 tokens in and out */
const PRICE = { input_usd_per_1m: 1000, output_usd_per_1m: 1000 };
/** how long any of these requests may take before the test calls it hung */
const CLIENT_GIVES_UP_MS = 20_000;
const ROUNDS = pick(2, 10);

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream({ slowIntervalMs: 20, commentIntervalMs: 100 });
  home = gateways.simHome(sim.url, {
    providers: {
      chatty: { type: 'openai-compatible', api_base: `${sim.url}/v1`, timeout_s: 30, first_token_timeout_s: FIRST_TOKEN_TIMEOUT_S },
    },
    models: {
      ok: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
      endless: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@endless' }] },
      endless_line: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@endless_line' }] },
      comments: { capability: 'chat', targets: [{ provider: 'chatty', model: 'sim-model@comments' }] },
      priced: { capability: 'chat', budget: { max_budget_usd: 100, budget_window: '1d' }, targets: [{ provider: 'sim', model: 'sim-model@slow', pricing: PRICE }] },
    },
    gateway: { max_response_bytes: MAX_RESPONSE_BYTES },
  });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

let seq = 0;

function chat(model: string, extra: Record<string, unknown> = {}) {
  const id = `up-${++seq}`;
  return chatWithId(gw.url, id, model, { content: `${id} hello there`, extra, timeoutMs: CLIENT_GIVES_UP_MS });
}

const rowsOf = (id: string) => readUsageRows(home.runtimeDir).filter((r) => r.request_id === id);
const oneRow = async (id: string) => {
  const row = await waitFor(() => rowsOf(id)[0], `the row of ${id}`);
  expect(rowsOf(id)).toHaveLength(1);
  return row;
};
const upstreamOf = (id: string): SimRequest | undefined =>
  sim.requests.find((q) => (q.body as { messages?: Array<{ content?: string }> })?.messages?.[0]?.content?.startsWith(`${id} `));
const closedUpstream = (id: string) => waitFor(() => upstreamOf(id)?.closedEarly, `the upstream request of ${id} closed`);

/** An ordinary request next to the hostile one is still answered. */
async function expectServed(): Promise<void> {
  const r = await chat('ok');
  expect(r.status).toBe(200);
}

describe('a hostile upstream', () => {
  it('a non-streamed body that never ends: 502 past max_response_bytes, one row, upstream closed, memory back', async () => {
    const before = rssBytes(gw.child.pid!)!;
    let peak = before;
    for (let i = 0; i < ROUNDS; i++) {
      const [r] = await Promise.all([chat('endless'), expectServed()]);
      expect(r.status).toBe(502);
      expectErrorBody(JSON.parse(r.text), 'upstream_error');
      expect(JSON.parse(r.text).error.message).toMatch(/max_response_bytes/);
      expect(await oneRow(r.id)).toMatchObject({ status: 'error', http_status: 502, error_type: 'upstream_error' });
      await closedUpstream(r.id);
      peak = Math.max(peak, rssBytes(gw.child.pid!)!);
    }
    const after = rssBytes(gw.child.pid!)!;
    report('hostile upstream: endless body', { rounds: ROUNDS, rss_before_mib: mib(before), rss_peak_mib: mib(peak), rss_after_mib: mib(after) });
    // what the bound lets in, with room for the allocator: never the gigabytes of an unbounded read
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('an SSE line that never ends: 502 past max_response_bytes, one row, upstream closed', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const [r] = await Promise.all([chat('endless_line', { stream: true }), expectServed()]);
      // nothing reached the client before the bound: a plain 502
      expect(r.status).toBe(502);
      expectErrorBody(JSON.parse(r.text), 'upstream_error');
      expect(await oneRow(r.id)).toMatchObject({ status: 'error', http_status: 502, error_type: 'upstream_error', stream: 1 });
      await closedUpstream(r.id);
    }
  });

  it('a stream of comments only: 504 upstream_timeout after first_token_timeout_s, one row, upstream closed', async () => {
    const [r] = await Promise.all([chat('comments', { stream: true }), expectServed()]);
    expect(r.status).toBe(504);
    expectErrorBody(JSON.parse(r.text), 'upstream_timeout');
    expect(await oneRow(r.id)).toMatchObject({ status: 'error', http_status: 504, error_type: 'upstream_timeout' });
    await closedUpstream(r.id);
  });

  it('a client that leaves a priced stream after 50 chunks is charged prompt + completion so far (estimated)', async () => {
    const id = `up-${++seq}`;
    const content = `${id} tell me a long story please`;
    const chunks = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id } }, (res) => {
        let seen = 0;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n\n')) !== -1) {
            if (buf.slice(0, i).includes('"content"')) seen++;
            buf = buf.slice(i + 2);
          }
          if (seen >= 50) {
            req.destroy();
            resolve(seen);
          }
        });
        res.on('end', () => reject(new Error(`the stream ended after ${seen} chunks`)));
      });
      req.on('error', () => {});
      req.end(JSON.stringify({ model: 'priced', stream: true, max_tokens: 400, messages: [{ role: 'user', content }] }));
    });
    const row = await oneRow(id);
    const up = await waitFor(() => (upstreamOf(id)?.closedEarly ? upstreamOf(id) : undefined), 'the upstream request closed');
    report('hostile upstream: mid-stream abort', { chunks_read: chunks, tokens_sent_by_upstream: up.tokensSent, completion_tokens_charged: row.completion_tokens, cost_usd: row.cost_usd });
    expect(row).toMatchObject({ status: 'error', http_status: 499, error_type: 'client_closed', usage_source: 'estimated' });
    expect(Math.abs(row.completion_tokens - up.tokensSent)).toBeLessThanOrEqual(Math.ceil(up.tokensSent * 0.1));
    expect(row.prompt_tokens).toBeGreaterThan(0);
    expect(row.cost_usd).toBeCloseTo((row.prompt_tokens + row.completion_tokens) / 1000, 9);
    // and the budget moved by the same amount
    const budgets = (await (await fetch(`${gw.url}/budgets`)).json()) as { budgets: Array<{ scope: string; target: string; spend_usd: number }> };
    expect(budgets.budgets.find((b) => b.scope === 'model' && b.target === 'priced')!.spend_usd).toBeCloseTo(row.cost_usd, 9);
  });
});
