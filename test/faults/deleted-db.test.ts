// The usage log deleted (`rm llm_usage.db{,-wal,-shm}`) again and again under load: each time
// it is recreated, counted, and at the end every request has its one row, the file passes
// integrity_check, and the budget's spend after a restart is what it was before.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, startGateway, waitFor } from '../helpers/gateway.js';
import { metricSum, runPool, scrapeMetrics } from '../helpers/load.js';
import { pricedHome } from '../policy/helpers.js';
import { MODE, newAgent, pick, send, type Kind } from './fixture.js';
import { report } from './report.js';

const DELETES = pick(3, 20);
const PER_ROUND = pick(150, 1000);
const CONCURRENCY = 16;
const KIND: Kind = {
  name: 'ok',
  path: '/v1/chat/completions',
  body: { model: 'chat', messages: [{ role: 'user', content: 'one two three' }] },
  status: 200,
  row: 'success',
};

let sim: SimUpstream;
let home: TempHome;
beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8, recordRequests: false });
  home = pricedHome(sim.url, { budget: { max_budget_usd: 1e6, budget_window: '1d', action: 'block' } });
});
afterAll(async () => {
  await sim?.close();
  home?.cleanup();
});

describe(`deleted usage log: rm db, -wal, -shm ${DELETES} times under load (${MODE})`, () => {
  it('recreated each time; every request has its row; spend survives a restart', async () => {
    const gw = await startGateway({ home: home.home });
    const db = path.join(home.runtimeDir, 'usage', 'llm_usage.db');
    const agent = newAgent(CONCURRENCY);
    let sent = 0;
    let ok = 0;
    let degradedSeen = 0;
    let spendBefore = 0;
    try {
      for (let round = 0; round < DELETES; round++) {
        const outcomes = await runPool(PER_ROUND, CONCURRENCY, async (i) => {
          if (i === PER_ROUND >> 1) {
            for (const s of ['', '-wal', '-shm']) fs.rmSync(db + s, { force: true });
            if ((await (await fetch(`${gw.url}/health`)).json()).status === 'degraded') degradedSeen++;
          }
          return send(agent, gw.url, KIND, `del-${round}-${i}`);
        });
        sent += outcomes.length;
        ok += outcomes.filter((o) => o.status === 200).length;
        await waitFor(
          async () => metricSum(await scrapeMetrics(gw.url), 'backend_usage_log_reopened_total') >= round + 1,
          `reopen ${round + 1}`,
          15_000,
          50,
        );
      }
      spendBefore = ((await (await fetch(`${gw.url}/budgets`)).json()) as any).budgets[0].spend_usd;
      expect(metricSum(await scrapeMetrics(gw.url), 'backend_usage_log_reopened_total')).toBe(DELETES);
    } finally {
      await agent.destroy();
      expect(await gw.stop()).toBe(0);
    }
    const check = new Database(db, { readonly: true });
    const integrity = check.pragma('integrity_check', { simple: true });
    check.close();
    const rows = readUsageRows(home.runtimeDir);
    const ids = new Set(rows.map((r) => r.request_id));
    expect(ok).toBe(sent);
    expect(integrity).toBe('ok');
    expect(rows.length).toBe(sent);
    expect(ids.size).toBe(sent);
    const again = await startGateway({ home: home.home });
    let spendAfter = 0;
    try {
      spendAfter = ((await (await fetch(`${again.url}/budgets`)).json()) as any).budgets[0].spend_usd;
    } finally {
      await again.stop();
    }
    expect(spendAfter).toBeCloseTo(spendBefore, 9);
    report('deleted-db', { mode: MODE, deletes: DELETES, requests: sent, rows: rows.length, lost: sent - ids.size, degraded_seen: degradedSeen, integrity_check: integrity, spend_before: spendBefore, spend_after_restart: spendAfter });
  }, pick(120_000, 900_000));
});
