// `1e309` and its siblings against a `block` budget, mixed with ordinary traffic at once: every
// hostile number in every field that feeds the estimate is a 400 naming the field, and the
// budget holds. Concurrent requests may overshoot by what was already in flight, never more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { runPool } from '../helpers/load.js';
import { blockBudgetHome } from '../policy/helpers.js';
import { MODE, newAgent, pick } from './fixture.js';
import { report } from './report.js';
import { request } from 'undici';

const LIMIT_USD = 0.05;
/** 5 prompt words + 8 completion tokens, $1 per 1000 tokens */
const COST = 0.013;
const CONCURRENCY = 8;
const ROUNDS = pick(2, 10);
const FIELDS = ['n', 'best_of', 'max_tokens', 'max_completion_tokens', 'max_output_tokens'];
const VALUES = ['1e309', '-1e309', '1e308', '-1', '0', '0.5', '2.5', '1e30', '"1e309"', 'null', 'true', '[]', '{}'];

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8, recordRequests: false });
  home = blockBudgetHome(sim.url, LIMIT_USD);
  gw = await startGateway({ home: home.home });
});
afterAll(async () => {
  await gw?.stop();
  await sim?.close();
  home?.cleanup();
});

describe(`1e309: hostile numbers in every estimate field under load, ${ROUNDS} rounds (${MODE})`, () => {
  it('each is a 400 naming its field (null excepted); the block budget holds', async () => {
    const agent = newAgent(CONCURRENCY);
    const hostile = FIELDS.flatMap((f) => VALUES.map((v) => ({ f, v })));
    const statuses: Record<string, number> = {};
    let wrongParam = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // hostile and ordinary requests interleaved, CONCURRENCY at a time
      const jobs = hostile.flatMap((h, i) => (i % 3 === 0 ? [h, null] : [h]));
      await runPool(jobs.length, CONCURRENCY, async (i) => {
        const h = jobs[i];
        const path = h?.f === 'best_of' ? '/v1/completions' : '/v1/chat/completions';
        const base = path === '/v1/completions' ? '"model":"chat","prompt":"one two three four five"' : '"model":"chat","messages":[{"role":"user","content":"one two three four five"}]';
        const text = h ? `{${base},"${h.f}":${h.v}}` : `{${base}}`;
        const r = await request(gw.url + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: text });
        const body = (await r.body.json()) as any;
        const label = h ? (h.v === 'null' ? 'null' : 'hostile') : 'ordinary';
        statuses[`${label}:${r.statusCode}`] = (statuses[`${label}:${r.statusCode}`] ?? 0) + 1;
        if (h && h.v !== 'null') {
          expect(r.statusCode, `${h.f}=${h.v}`).toBe(400);
          if (body.error?.param !== h.f) wrongParam++;
        } else {
          expect([200, 429]).toContain(r.statusCode);
        }
      });
    }
    await agent.destroy();
    expect(wrongParam).toBe(0);
    const total = ROUNDS * (FIELDS.length * VALUES.length + Math.ceil((FIELDS.length * VALUES.length) / 3));
    const rows = await waitFor(() => {
      const r = readUsageRows(home.runtimeDir);
      return r.length >= total ? r : null;
    }, 'every row');
    const spend = rows.reduce((s, r) => s + (r.cost_usd ?? 0), 0);
    expect(statuses['ordinary:429'] ?? 0).toBeGreaterThan(0);
    expect(spend).toBeLessThanOrEqual(LIMIT_USD + CONCURRENCY * COST + 1e-9);
    const budget = ((await (await fetch(`${gw.url}/budgets`)).json()) as any).budgets[0];
    expect(budget.exceeded).toBe(true);
    report('numbers', { mode: MODE, rounds: ROUNDS, requests: rows.length, statuses, spend_usd: spend, limit_usd: LIMIT_USD, wrong_param: wrongParam });
  }, pick(120_000, 600_000));
});
