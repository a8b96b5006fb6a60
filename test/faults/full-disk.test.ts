// Full disk: the runtime dir (usage log and the gateway's own log file, as the
// dashboard's supervisor writes it) on a small tmpfs that we fill up. The gateway keeps serving,
// /health says `degraded` with the reason, backend_usage_log_errors_total counts, rows wait in
// the bounded buffer and land once space returns: none is lost. Needs root for mount(8); without
// it (and without password-less sudo) the test is skipped with the reason.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { GatewaySupervisor } from '../../src/tui/gatewayChild/supervisor.js';
import { cleanEnv, type TempHome } from '../helpers/config.js';
import { freePort, PTUI_BIN, readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { DEFAULT_MAX_BUFFERED } from '../../src/usage/log.js';
import { getOnce, metricSum, runPool, scrapeMetrics } from '../helpers/load.js';
import { checkOutcome, faultHome, KINDS, MODE, mountTmpfs, newAgent, pick, send, unmountTmpfs, type Outcome } from './fixture.js';
import { report } from './report.js';

const WHILE_FULL = pick(500, 5000);
const TMPFS_SIZE = '4m';

let sim: SimUpstream;
let home: TempHome;
let mnt: string;
let mountError: string | null = null;
let sup: GatewaySupervisor | null = null;

/** Writes a file until the filesystem says ENOSPC. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** /health, or why it could not be read (the supervisor's account of the child's last exit). */
async function health(url: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse((await getOnce(`${url}/health`)).text) as Record<string, unknown>;
  } catch (err) {
    const s = sup?.getSnapshot();
    return { status: 'unreachable', error: (err as Error).message, mode: s?.mode, last_exit: s?.lastExit, restarts: s?.restarts };
  }
}

describe(`full disk: runtime dir on a ${TMPFS_SIZE} tmpfs (${MODE})`, () => {
  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: false });
    home = faultHome(sim);
    mnt = path.join(home.home, 'tmpfs-runtime');
    fs.mkdirSync(mnt);
    mountError = mountTmpfs(mnt, TMPFS_SIZE);
  });

  afterAll(async () => {
    await sup?.stop();
    await sim?.close();
    if (!mountError) unmountTmpfs(mnt);
    home?.cleanup();
  });

  it('keeps serving, reports degraded, buffers rows and writes them all once space returns', async (t) => {
    if (mountError) {
      t.skip(`cannot mount a tmpfs here (needs root): ${mountError}`);
      return;
    }
    const port = await freePort();
    const logFile = path.join(mnt, 'logs', 'gateway.log');
    sup = new GatewaySupervisor({
      host: '127.0.0.1',
      port,
      spawn: true,
      args: [PTUI_BIN, '--home', home.home, 'gateway', '--port', String(port), '--runtime-dir', mnt],
      logFile,
      runtimeDir: mnt,
      stopOnExit: true,
      env: cleanEnv(),
      initialBackoffMs: 100,
      checkEveryMs: 200,
    });
    await sup.start();
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await health(url)).status === 'ok', 'the gateway', 20_000, 50);
    const pid = sup.childPid;

    const agent = newAgent(16);
    const outcomes: Outcome[] = [];
    let seq = 0;
    const ok = KINDS.filter((k) => k.row === 'success' && k.status === 200);
    const batch = async (n: number) => {
      const out = await runPool(n, 16, (i) => send(agent, url, ok[i % ok.length], `disk-${seq++}`));
      outcomes.push(...out);
      return out;
    };

    await batch(100);
    const filler = fill(mnt);

    // Pages SQLite already holds absorb a few rows; keep going until the log refuses.
    let h: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      await batch(200);
      h = await health(url);
      if (h.status === 'degraded') break;
    }
    expect(h, JSON.stringify(h)).toMatchObject({ status: 'degraded' });
    expect(String(h.usage_log_error)).toMatch(/full/i);

    // Still serving while degraded, on the same process.
    const whileFull = await batch(WHILE_FULL);
    const problems = whileFull.map((o, i) => checkOutcome(o, ok[i % ok.length]!)).filter(Boolean);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(sup.childPid).toBe(pid);
    expect(sup.getSnapshot().restarts).toBe(0);

    const m1 = await scrapeMetrics(url);
    const errors = metricSum(m1, 'backend_usage_log_errors_total');
    const buffered = metricSum(m1, 'backend_usage_log_buffered_rows');
    expect(errors).toBeGreaterThanOrEqual(1);
    expect(buffered).toBeGreaterThan(0);
    expect(metricSum(m1, 'backend_usage_log_dropped_rows_total')).toBe(0);

    // Space comes back: the buffer drains, /health recovers, every request has its row.
    fs.rmSync(filler);
    await waitFor(async () => (await health(url)).status === 'ok', '/health to recover', 20_000, 100);
    await agent.close();
    await sup.stop();
    expect(sup.getSnapshot().restarts).toBe(0);

    const rows = readUsageRows(mnt);
    const ids = new Set(rows.map((r) => r.request_id));
    const missing = outcomes.filter((o) => !ids.has(o.id)).map((o) => o.id);
    expect(missing.slice(0, 10), `${missing.length} requests without a row`).toEqual([]);
    expect(rows.length).toBe(outcomes.length);

    report('full-disk', {
      mode: MODE,
      tmpfs: TMPFS_SIZE,
      requests: outcomes.length,
      served_while_full: whileFull.length,
      rows: rows.length,
      lost: missing.length,
      usage_log_errors_total: errors,
      buffered_at_peak_scrape: buffered,
      dropped: 0,
      health_while_full: h,
    });
  }, pick(120_000, 600_000));
  // Past the buffer: only in full mode, since it takes DEFAULT_MAX_BUFFERED requests to get there.
  it.runIf(MODE === 'full')('past the bounded buffer: every row it cannot hold is counted and logged, the rest land', async (t) => {
    if (mountError) {
      t.skip(`cannot mount a tmpfs here (needs root): ${mountError}`);
      return;
    }
    const big = path.join(home.home, 'tmpfs-big');
    fs.mkdirSync(big);
    expect(mountTmpfs(big, '96m')).toBeNull();
    let gw: GatewayChild | null = null;
    try {
      // stderr stays a pipe here: the log lines about dropped rows must survive the full disk.
      gw = await startGateway({ home: home.home, args: ['--runtime-dir', big] });
      const agent = newAgent(32);
      let seq = 0;
      const sent: string[] = [];
      const kind = KINDS[0];
      const batch = async (n: number) => {
        const out = await runPool(n, 32, (i) => send(agent, gw!.url, kind, `over-${seq++}`));
        for (const o of out) {
          expect(o.status).toBe(200);
          sent.push(o.id);
        }
      };
      await batch(100);
      const filler = fill(big);
      for (let i = 0; i < 50 && (await health(gw.url)).status !== 'degraded'; i++) await batch(200);
      expect((await health(gw.url)).status).toBe('degraded');
      const over = 2000;
      await batch(DEFAULT_MAX_BUFFERED + over);
      const m1 = await scrapeMetrics(gw.url);
      const dropped = metricSum(m1, 'backend_usage_log_dropped_rows_total');
      expect(metricSum(m1, 'backend_usage_log_buffered_rows')).toBe(DEFAULT_MAX_BUFFERED);
      expect(dropped).toBeGreaterThanOrEqual(over);
      fs.rmSync(filler);
      await waitFor(async () => (await health(gw!.url)).status === 'ok', '/health to recover', 60_000, 200);
      await agent.close();
      expect(await gw.stop()).toBe(0);
      const droppedLogged = new Set(gw.logLines().filter((l) => l.event === 'usage_row_dropped').map((l) => l.request_id as string));
      expect(droppedLogged.size).toBe(dropped);
      const rows = readUsageRows(big);
      const ids = new Set(rows.map((r) => r.request_id));
      // Every request is either in the log or named in a usage_row_dropped line: nothing silent.
      const unaccounted = sent.filter((id) => !ids.has(id) && !droppedLogged.has(id));
      expect(unaccounted.length).toBe(0);
      expect(rows.length + dropped).toBe(sent.length);
      report('full-disk-overflow', { requests: sent.length, rows: rows.length, dropped_counted: dropped, dropped_logged: droppedLogged.size, silent: unaccounted.length });
    } finally {
      await gw?.stop('SIGKILL');
      unmountTmpfs(big);
    }
  }, 1_200_000);
});
