// The provider's clocks against the real gateway: timeout_s is a deadline for a whole non-streamed
// answer (an upstream that drips bytes cannot stretch it), a stream that falls silent for longer
// than idle_timeout_s after it started ends with upstream_timeout, and a stream that keeps sending
// events may run longer than timeout_s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { chatWithId, readUsageRows, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { expectErrorBody } from '../helpers/openai-errors.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream({ chunkIntervalMs: 200, slowIntervalMs: 1500, dripIntervalMs: 50 });
  home = gateways.simHome(sim.url, {
    providers: { tight: { type: 'openai-compatible', api_base: `${sim.url}/v1`, timeout_s: 1, idle_timeout_s: 0.5 } },
    models: {
      drip: { capability: 'chat', targets: [{ provider: 'tight', model: 'sim-model@drip' }] },
      stalls: { capability: 'chat', targets: [{ provider: 'tight', model: 'sim-model@slow' }] },
      steady: { capability: 'chat', targets: [{ provider: 'tight', model: 'sim-model' }] },
    },
  });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

let seq = 0;
const chat = (model: string, extra: Record<string, unknown> = {}) => chatWithId(gw.url, `clk-${++seq}`, model, { extra });
const rowOf = (id: string) => waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === id), `the row of ${id}`);

describe('upstream clocks', () => {
  it('a non-streamed answer dripped byte by byte past timeout_s: 504 upstream_timeout, one row', async () => {
    const r = await chat('drip');
    expect(r.status).toBe(504);
    expectErrorBody(JSON.parse(r.text), 'upstream_timeout');
    expect(await rowOf(r.id)).toMatchObject({ status: 'error', http_status: 504, error_type: 'upstream_timeout' });
  });

  it('a stream silent for longer than idle_timeout_s after its first token: upstream_timeout mid-stream, charged what came', async () => {
    const r = await chat('stalls', { stream: true, max_tokens: 5 });
    expect(r.status).toBe(200);
    const event = r.text.split('\n').find((l) => l.startsWith('data: {"error"'));
    expect(event, r.text).toBeDefined();
    expectErrorBody(JSON.parse(event!.slice(6)), 'upstream_timeout');
    expect(r.text).not.toContain('[DONE]');
    expect(await rowOf(r.id)).toMatchObject({ status: 'error', http_status: 504, error_type: 'upstream_timeout', usage_source: 'estimated', completion_tokens: 1 });
  });

  it('a stream that keeps sending events may outlast timeout_s', async () => {
    const r = await chat('steady', { stream: true, max_tokens: 8 }); // 8 events 200 ms apart: 1.4 s > timeout_s 1
    expect(r.status).toBe(200);
    expect(r.text).toContain('data: [DONE]');
    expect(await rowOf(r.id)).toMatchObject({ status: 'success', usage_source: 'upstream', completion_tokens: 8 });
  });
});
