// Extra callback modules that hang, against the real gateway: a hook that never settles is
// abandoned after callback_timeout_ms (onRequest: 500 callback_timeout; onSuccess/onError: the
// answer goes on), the row is written either way, and a module whose import never settles stops
// the start within 10 s, naming the module.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, runGatewayToExit, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { expectErrorBody } from '../helpers/openai-errors.js';
import { report } from './report.js';

const CALLBACK_TIMEOUT_MS = 300;

// Hangs the hook named by the request's x-hang header; never settles.
const HANGING = `
const never = () => new Promise(() => {});
export default {
  name: 'hanging',
  onRequest(ctx) { if (ctx.headers['x-hang'] === 'request') return never(); },
  onSuccess(ctx) { if (ctx.headers['x-hang'] === 'success') return never(); },
  onError(ctx) { if (ctx.headers['x-hang'] === 'error') return never(); },
};
`;

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream();
  home = gateways.simHome(sim.url, {
    models: {
      chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
      broken: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@500' }] },
    },
    gateway: { callbacks: ['callbacks/hanging.mjs'], callback_timeout_ms: CALLBACK_TIMEOUT_MS },
  });
  fs.mkdirSync(path.join(home.home, 'callbacks'));
  fs.writeFileSync(path.join(home.home, 'callbacks', 'hanging.mjs'), HANGING);
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

let seq = 0;
async function send(model: string, hang: string, stream = false) {
  const id = `cb-${++seq}`;
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-hang': hang },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
    signal: AbortSignal.timeout(15_000),
  });
  return { id, status: res.status, text: await res.text() };
}

const rowOf = (id: string) => waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === id), `the row of ${id}`);

describe('a hanging extra callback', () => {
  it('in onRequest: 500 callback_timeout, a row, nothing sent upstream', async () => {
    const before = sim.requests.length;
    const r = await send('chat', 'request');
    expect(r.status).toBe(500);
    expectErrorBody(JSON.parse(r.text), 'callback_timeout');
    expect(await rowOf(r.id)).toMatchObject({ status: 'error', http_status: 500, error_type: 'callback_timeout' });
    expect(sim.requests.length).toBe(before);
    const line = await waitFor(() => gw.logLines().find((l) => l.event === 'callback_timeout' && l.request_id === r.id), 'the callback_timeout line');
    expect(line).toMatchObject({ callback: 'hanging', hook: 'onRequest' });
  });

  it('in onSuccess (plain and streamed) and onError: the answer goes on and the row is written', async () => {
    const plain = await send('chat', 'success');
    expect(plain.status).toBe(200);
    expect(await rowOf(plain.id)).toMatchObject({ status: 'success', http_status: 200 });
    const streamed = await send('chat', 'success', true);
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('data: [DONE]');
    expect(await rowOf(streamed.id)).toMatchObject({ status: 'success', stream: 1 });
    const failed = await send('broken', 'error');
    expect(failed.status).toBe(502);
    expect(await rowOf(failed.id)).toMatchObject({ status: 'error', http_status: 502 });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/backend_callback_errors_total\{callback="hanging",hook="onSuccess"\} 2/);
    expect(metrics).toMatch(/backend_callback_errors_total\{callback="hanging",hook="onError"\} 1/);
  });
});

describe('a callback module whose import never settles', () => {
  it('stops the start within 10 s, exit 1, naming the module', async () => {
    const h = gateways.simHome(sim.url, { gateway: { callbacks: ['callbacks/never.mjs'] } });
    fs.mkdirSync(path.join(h.home, 'callbacks'));
    fs.writeFileSync(path.join(h.home, 'callbacks', 'never.mjs'), 'await new Promise(() => setInterval(() => {}, 1000));\nexport default {};\n');
    const t0 = Date.now();
    const { code, stderr } = await runGatewayToExit({ home: h.home, timeoutMs: 30_000 });
    const seconds = (Date.now() - t0) / 1000;
    report('hanging callback module', { exit_code: code, seconds: seconds.toFixed(1) });
    expect(code).toBe(1);
    expect(stderr).toContain('callbacks/never.mjs');
    expect(stderr).toMatch(/did not load within 10 s/);
  });
});
