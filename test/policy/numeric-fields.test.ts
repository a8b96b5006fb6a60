// Numeric fields that feed the budget estimate must be finite integers in range, else a 400
// naming the field: `n: 1e309` once turned a reservation into Infinity and its release into
// NaN, and a $0.05 block budget let through every request after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { blockBudgetHome, chatBody, postJson } from './helpers.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const LIMIT = 0.05;

beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8 });
  home = blockBudgetHome(sim.url, LIMIT);
  gw = await startGateway({ home: home.home });
});
afterAll(async () => {
  await gw?.stop();
  await sim?.close();
  home?.cleanup();
});

/** Raw text, because JSON.stringify cannot write 1e309 or -1e309 (JSON.parse reads them as ±Infinity). */
async function postRaw(path: string, text: string, id: string) {
  const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: text });
  return { status: r.status, json: (await r.json()) as any };
}

const FIELDS: Array<[field: string, path: string, base: string]> = [
  ['n', '/v1/chat/completions', '"model":"chat","messages":[{"role":"user","content":"hi"}]'],
  ['max_tokens', '/v1/chat/completions', '"model":"chat","messages":[{"role":"user","content":"hi"}]'],
  ['max_completion_tokens', '/v1/chat/completions', '"model":"chat","messages":[{"role":"user","content":"hi"}]'],
  ['max_output_tokens', '/v1/chat/completions', '"model":"chat","messages":[{"role":"user","content":"hi"}]'],
  ['best_of', '/v1/completions', '"model":"chat","prompt":"hi"'],
  ['n', '/v1/completions', '"model":"chat","prompt":"hi"'],
  ['max_tokens', '/v1/completions', '"model":"chat","prompt":"hi"'],
];
const HOSTILE = ['1e309', '-1e309', '-1', '0', '1.5', '1e20', '9007199254740993', '"10"', 'true', '[2]', '{"a":1}'];

describe('numeric fields that feed estimates', () => {
  it('each hostile value of each field: 400 invalid_request_error naming the field, one row, nothing sent upstream', async () => {
    const before = sim.requests.length;
    let i = 0;
    for (const [field, path, base] of FIELDS) {
      for (const v of HOSTILE) {
        const id = `num-${++i}`;
        const r = await postRaw(path, `{${base},"${field}":${v}}`, id);
        expect(r.status, `${field}=${v}`).toBe(400);
        expect(r.json.error.type).toBe('invalid_request_error');
        expect(r.json.error.param, `${field}=${v}`).toBe(field);
        expect(r.json.error.message).toContain(field);
      }
    }
    expect(sim.requests.length).toBe(before);
    // An error's row is committed just after its answer goes out, so the last one may trail it.
    const numRows = () => readUsageRows(home.runtimeDir).filter((r) => String(r.request_id).startsWith('num-'));
    await waitFor(() => numRows().length >= i, `${i} rows`);
    const rows = numRows();
    expect(rows).toHaveLength(i);
    expect(rows.every((r) => r.http_status === 400 && r.error_type === 'invalid_request_error')).toBe(true);
  });

  it('ordinary values and null still pass', async () => {
    for (const extra of [{ n: 1 }, { max_tokens: 16 }, { max_completion_tokens: 16, n: 2 }, { max_tokens: null }, { n: null }]) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('hi', { ...extra, model: 'open' }));
      expect(r.status, JSON.stringify(extra)).toBe(200);
    }
  });

  it('the block budget still holds after 1e309 was tried (the reproduction: 40 requests on a $0.05 budget)', async () => {
    await postRaw('/v1/chat/completions', '{"model":"chat","n":1e309,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}', 'num-inf');
    const statuses: number[] = [];
    for (let k = 0; k < 40; k++) statuses.push((await postJson(`${gw.url}/v1/chat/completions`, chatBody('one two three'))).status);
    expect(statuses).toContain(429);
    const spend = readUsageRows(home.runtimeDir)
      .filter((r) => r.logical_model === 'chat')
      .reduce((s, r) => s + (r.cost_usd ?? 0), 0);
    // sequential requests: at most the one that crossed the limit goes over
    expect(spend).toBeLessThan(LIMIT + 0.011 + 1e-9);
    const budgets = (await (await fetch(`${gw.url}/budgets`)).json()).budgets as any[];
    expect(budgets[0].exceeded).toBe(true);
    expect(Number.isFinite(budgets[0].spend_usd)).toBe(true);
  });
});
