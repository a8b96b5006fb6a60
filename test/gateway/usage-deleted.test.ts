// `rm llm_usage.db{,-wal,-shm}` under a running gateway: /health says degraded until the file is
// back (within about a second), a metric counts it, and no row is lost: the rows from before the
// delete, the ones written to the deleted file, and the ones after are all in the new file, and
// a restart's budgets see all of their spend.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, startGateway, waitFor } from '../helpers/gateway.js';
import { chatBody, metric, metricsText, postJson, pricedHome } from '../policy/helpers.js';

let sim: SimUpstream;
let home: TempHome;
beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8, recordRequests: false });
  home = pricedHome(sim.url, { budget: { max_budget_usd: 100, budget_window: '1h', action: 'block' } });
});
afterAll(async () => {
  await sim?.close();
  home?.cleanup();
});

const rmLog = (runtimeDir: string) => {
  const db = path.join(runtimeDir, 'usage', 'llm_usage.db');
  for (const s of ['', '-wal', '-shm']) fs.rmSync(db + s, { force: true });
  return db;
};

describe('the usage log deleted under a running gateway', () => {
  it('is recreated with every row; degraded until then; counted; budgets keep their spend across a restart', async () => {
    const gw = await startGateway({ home: home.home });
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, chatBody('one two three'))).status).toBe(200);
    };
    let spendBefore = 0;
    try {
      await send(5);
      const db = rmLog(home.runtimeDir);
      await send(3); // written to the deleted inode
      const health = await (await fetch(`${gw.url}/health`)).json();
      // Asked right after the delete: degraded, unless the 1 s check already put the file back.
      if (!fs.existsSync(db)) expect(health.status).toBe('degraded');
      await waitFor(async () => metric(await metricsText(gw.url), 'backend_usage_log_reopened_total') === 1, 'the reopen to be counted');
      expect(fs.existsSync(db)).toBe(true);
      await waitFor(async () => (await (await fetch(`${gw.url}/health`)).json()).status === 'ok', '/health ok again');
      await send(2);
      spendBefore = ((await (await fetch(`${gw.url}/budgets`)).json()) as any).budgets[0].spend_usd;
      expect(spendBefore).toBeGreaterThan(0.1); // 10 requests at $0.011
      expect(gw.logLines().some((l) => l.event === 'usage_log_reopened')).toBe(true);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    expect(readUsageRows(home.runtimeDir)).toHaveLength(10);
    const again = await startGateway({ home: home.home });
    try {
      const spend = ((await (await fetch(`${again.url}/budgets`)).json()) as any).budgets[0].spend_usd;
      expect(spend).toBeCloseTo(spendBefore, 9);
    } finally {
      await again.stop();
    }
  });
});
