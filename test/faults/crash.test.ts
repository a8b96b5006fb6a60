// Crash: `kill -9` of the gateway under load, restarted by the dashboard's own
// supervisor (GatewaySupervisor, as `ptui` runs it). Afterwards the usage log passes
// `PRAGMA integrity_check`, and every response a client received as a success has its row.
// Requests in flight at the kill may fail (the process is gone) and then may have no row: the
// guarantee is about what a client was told succeeded.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { GatewaySupervisor } from '../../src/tui/gatewayChild/supervisor.js';
import { cleanEnv, type TempHome } from '../helpers/config.js';
import { freePort, PTUI_BIN, readUsageRows, waitFor } from '../helpers/gateway.js';
import { getOnce, runPool } from '../helpers/load.js';
import { faultHome, KINDS, MODE, newAgent, pick, send, type Outcome } from './fixture.js';
import { report } from './report.js';

const KILLS = pick(3, 10);
const PER_ROUND = pick(400, 2000);
const CONCURRENCY = 32;
const SUCCESS_KINDS = KINDS.filter((k) => k.row === 'success' && k.status === 200);

let sim: SimUpstream;
let home: TempHome;
let sup: GatewaySupervisor;
let port: number;

const healthy = async (url: string) => {
  try {
    return (await getOnce(`${url}/health`)).status === 200;
  } catch {
    return false;
  }
};

/** A success as the client saw it: 200 and a complete body (parsable JSON, or a stream that ended with [DONE]). */
function receivedSuccess(o: Outcome): boolean {
  if (o.status !== 200 || o.error) return false;
  if (o.text.startsWith('data:')) return o.text.trimEnd().endsWith('data: [DONE]');
  try {
    JSON.parse(o.text);
    return true;
  } catch {
    return false;
  }
}

describe(`crash: kill -9 of the gateway under load, ${KILLS} times, supervisor restarts it (${MODE})`, () => {
  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: false, chunkIntervalMs: 2 });
    home = faultHome(sim);
    port = await freePort();
    sup = new GatewaySupervisor({
      host: '127.0.0.1',
      port,
      spawn: true,
      args: [PTUI_BIN, '--home', home.home, 'gateway', '--port', String(port)],
      logFile: path.join(home.runtimeDir, 'logs', 'gateway.log'),
      runtimeDir: home.runtimeDir,
      stopOnExit: true,
      env: cleanEnv(),
      initialBackoffMs: 100,
      maxBackoffMs: 500,
      checkEveryMs: 100,
    });
    await sup.start();
  });

  afterAll(async () => {
    await sup?.stop();
    await sim?.close();
    home?.cleanup();
  });

  it('integrity_check ok; every success the clients saw has its row', async () => {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(() => healthy(url), 'the supervised gateway', 20_000, 50);
    const outcomes: Outcome[] = [];
    const pids = new Set<number>();
    let seq = 0;
    for (let round = 0; round <= KILLS; round++) {
      await waitFor(() => healthy(url), `the gateway to be back (round ${round})`, 30_000, 50);
      pids.add(sup.childPid!);
      const agent = newAgent(CONCURRENCY);
      let killed = false;
      let down: Promise<unknown> | null = null;
      const victim = sup.childPid!;
      const batch = await runPool(PER_ROUND, CONCURRENCY, async (i) => {
        // Kill in the middle of the round, with every client busy.
        if (round < KILLS && i === PER_ROUND >> 1 && !killed) {
          killed = true;
          process.kill(victim, 'SIGKILL');
        }
        const kind = SUCCESS_KINDS[i % SUCCESS_KINDS.length];
        // While the gateway is down, clients wait for it instead of piling up refused connections.
        if (down) await down;
        const o = await send(agent, url, kind, `crash-${round}-${seq++}`);
        if (o.error && !down) down = waitFor(() => healthy(url), 'the gateway to come back', 30_000, 20).then(() => (down = null));
        return o;
      });
      outcomes.push(...batch);
      await agent.destroy();
      if (round < KILLS) await waitFor(() => sup.childPid !== null && sup.childPid !== victim, 'a new child', 30_000, 50);
    }
    await sup.stop();

    const file = path.join(home.runtimeDir, 'usage', 'llm_usage.db');
    const db = new Database(file, { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    expect(integrity).toBe('ok');

    const rows = readUsageRows(home.runtimeDir);
    const ids = new Set(rows.map((r) => r.request_id));
    const successes = outcomes.filter(receivedSuccess);
    const missing = successes.filter((o) => !ids.has(o.id)).map((o) => `${o.id} (${o.kind})`);
    expect(missing.slice(0, 10), `${missing.length} successes without a row`).toEqual([]);
    expect(pids.size).toBe(KILLS + 1);
    expect(sup.getSnapshot().restarts).toBeGreaterThanOrEqual(KILLS);

    const failed = outcomes.length - successes.length;
    report('crash', {
      mode: MODE,
      kills: KILLS,
      requests: outcomes.length,
      successes_seen_by_clients: successes.length,
      failed_in_flight_at_kill: failed,
      rows: rows.length,
      successes_without_row: missing.length,
      lost: missing.length,
      integrity_check: integrity,
      restarts: sup.getSnapshot().restarts,
    });
  }, pick(180_000, 900_000));
});
