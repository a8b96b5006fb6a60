// Two gateways on one runtime dir: several started at the same moment, round after round, with
// the winner killed by -9 between rounds. Exactly one serves each round; every other exits 1
// naming the winner's pid and port; no kill -9 leaves a lock that stops the next round; and a
// `block` budget holds against the one usage log (two gateways would each count only their own
// spend and let through twice the limit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceRecord } from '../../src/config/instance-record.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, runGatewayToExit, startGateway, type GatewayChild } from '../helpers/gateway.js';
import { chatBody, postJson, pricedHome } from '../policy/helpers.js';
import { MODE, pick } from './fixture.js';
import { report } from './report.js';

const ROUNDS = pick(2, 6);
const STARTERS = pick(3, 6);
/** 3 prompt words + 8 completion tokens at $1 per 1000 tokens: $0.011 a request. */
const LIMIT_USD = 0.05;

let sim: SimUpstream;
let home: TempHome;
beforeAll(async () => {
  sim = await startSimUpstream({ completionTokens: 8, recordRequests: false });
  home = pricedHome(sim.url, { budget: { max_budget_usd: LIMIT_USD, budget_window: '1h', action: 'block' } });
});
afterAll(async () => {
  await sim?.close();
  home?.cleanup();
});

type Start = { gw: GatewayChild } | { exit: { code: number | null; stderr: string } };

/** Starts a gateway; a loser's start rejects (it exits before listening), so ask again to see its exit. */
async function start(): Promise<Start> {
  try {
    return { gw: await startGateway({ home: home.home, timeoutMs: 30_000 }) };
  } catch (e) {
    return { exit: { code: 1, stderr: String((e as Error).message) } };
  }
}

describe(`two gateways on one runtime dir: ${STARTERS} at once, ${ROUNDS} rounds, kill -9 between (${MODE})`, () => {
  it('one serves, the others exit 1 naming it; the block budget holds across every round', async () => {
    let refused = 0;
    let blocked = 0;
    let passed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const starts = await Promise.all(Array.from({ length: STARTERS }, () => start()));
      const winners = starts.flatMap((s) => ('gw' in s ? [s.gw] : []));
      expect(winners, `round ${round}: exactly one gateway serves`).toHaveLength(1);
      const winner = winners[0]!;
      const rec = readInstanceRecord(home.runtimeDir);
      expect(rec.state === 'ok' && rec.record.pid).toBe(winner.child.pid);
      for (const s of starts) {
        if (!('exit' in s)) continue;
        refused++;
        expect(s.exit.stderr).toMatch(/exited with 1 before listening/);
        expect(s.exit.stderr).toContain(`pid ${winner.child.pid}, port ${winner.port}`);
      }
      // A direct second start while it serves says the same.
      const late = await runGatewayToExit({ home: home.home });
      expect(late.code).toBe(1);
      expect(late.stderr).toContain(`pid ${winner.child.pid}, port ${winner.port}`);
      refused++;

      for (let i = 0; i < 4; i++) {
        const r = await postJson(`${winner.url}/v1/chat/completions`, chatBody('one two three'));
        if (r.status === 200) passed++;
        else if (r.status === 429) blocked++;
        else throw new Error(`unexpected ${r.status}: ${r.text}`);
      }
      await winner.stop('SIGKILL');
    }
    const spend = readUsageRows(home.runtimeDir).reduce((s, r) => s + (r.cost_usd ?? 0), 0);
    // Sequential requests: the budget lets through until spend >= max, then blocks. One request's
    // cost is the only overshoot allowed.
    expect(spend).toBeLessThan(LIMIT_USD + 0.011 + 1e-9);
    expect(blocked).toBeGreaterThan(0);
    report('instances', { mode: MODE, rounds: ROUNDS, starters: STARTERS, refused, passed, blocked, spend_usd: spend, limit_usd: LIMIT_USD });
  }, pick(120_000, 600_000));
});
