// The gateway outlives the console, and the console's master key goes only to our gateway:
// q, SIGHUP with traffic flowing and kill -9 of the console leave it serving with no failed
// request; the next console adopts it (after the proof) and R restarts it; a second console at
// once adopts too; a stale record means a new gateway; an impostor on the port never gets a
// credential and is named with its pid. `ptui gateway status` / `stop` work on the record.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instanceRecordPath, newInstanceSecret, readInstanceRecord, writeInstanceRecord } from '../../src/config/instance-record.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { processGone } from '../../src/tui/gatewayChild/process.js';
import { cleanEnv, type TempHome } from '../helpers/config.js';
import { freePort, makeSimHome, waitFor } from '../helpers/gateway.js';
import { PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

const MASTER_KEY = 'sk-master-lifecycle-test-0123456789';
// an orphaned gateway that exited may stay a zombie here (pid 1 of a container may not reap)
const alive = (pid: number) => !processGone(pid);

let sim: SimUpstream;
let bin: string;
beforeAll(async () => {
  sim = await startSimUpstream({ recordRequests: false, latencyMs: 30 });
  bin = bareBinDir();
});
afterAll(async () => {
  await sim?.close();
  fs.rmSync(bin, { recursive: true, force: true });
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function ptui(home: TempHome, ...args: string[]) {
  const r = spawnSync(process.execPath, [PTUI_BIN, '--home', home.home, ...args], { encoding: 'utf8', env: cleanEnv({ AI_BACKEND_MASTER_KEY: MASTER_KEY }) });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A home whose gateway is stopped after the test, whatever the test left running. */
function simHome(): TempHome {
  const home = makeSimHome(sim.url);
  cleanups.push(() => {
    const r = readInstanceRecord(home.runtimeDir);
    if (r.state === 'ok' && alive(r.record.pid)) {
      process.kill(r.record.pid, 'SIGKILL');
    }
    home.cleanup();
  });
  return home;
}

async function consoleIn(home: TempHome, port: number, ...args: string[]): Promise<TmuxSession> {
  const t = await startTmux({
    argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), ...args],
    env: cleanEnv({ PATH: bin, HOME: home.home, PTUI_SYSTEMD_DIR: path.join(home.home, 'none'), AI_BACKEND_MASTER_KEY: MASTER_KEY }),
  });
  cleanups.push(() => t.kill());
  return t;
}

const pidOnScreen = (s: string) => Number(/pid (\d+)\s+:\d+/.exec(s)?.[1] ?? NaN);

async function chat(port: number): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

/** Clients sending requests back to back until stopped; every status they got. */
function traffic(port: number, clients = 4) {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) statuses.push(await chat(port));
  });
  return { statuses, stop: async () => ((running = false), await Promise.all(loops), statuses) };
}

// several consoles and gateways start one after another in each test: minutes on a busy box
describe.skipIf(!tmuxAvailable())('the gateway outlives the console', { timeout: 120_000 }, () => {
  it('q leaves it serving; status names it; a kill -9 of the next console too; the one after adopts it and R restarts it', async () => {
    const home = simHome();
    const port = await freePort();
    const t1 = await consoleIn(home, port);
    const pid = pidOnScreen(await t1.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 30_000));
    const load = traffic(port);
    await waitFor(() => load.statuses.length >= 5, 'traffic');
    t1.sendKeys('q');
    expect(await t1.waitForExit(15_000)).toBe(0);
    await waitFor(() => load.statuses.length >= 15, 'traffic after quitting');
    expect(alive(pid)).toBe(true);
    const status = ptui(home, 'gateway', 'status');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(new RegExp(`running, pid ${pid}, 127\\.0\\.0\\.1:${port}, up \\S+, \\d+ requests served`));

    const t2 = await consoleIn(home, port);
    await t2.waitForText(/● running \(adopted\)\s+restarts 0\s*\n.*pid \d+/, 20_000);
    expect(pidOnScreen(t2.capture())).toBe(pid);
    process.kill(t2.pid(), 'SIGKILL');
    await waitFor(() => load.statuses.length >= 25, 'traffic after kill -9 of the console');
    expect(alive(pid)).toBe(true);

    const t3 = await consoleIn(home, port);
    await t3.waitForText('● running (adopted)', 20_000);
    t3.sendKeys('R');
    await t3.waitForText('restart the gateway? clients see it gone for a moment y/n');
    t3.sendKeys('y');
    const after = await t3.waitForScreen((s) => pidOnScreen(s) !== pid && /● running\s+restarts 1/.test(s) && s, 'a new gateway', 30_000);
    const newPid = pidOnScreen(after);
    expect(alive(pid)).toBe(false);
    const statuses = await load.stop();
    // before R every request succeeded
    expect(statuses.slice(0, 25).filter((s) => s !== 200)).toEqual([]);
    t3.sendKeys('q');
    expect(await t3.waitForExit(15_000)).toBe(0);
    const stop = ptui(home, 'gateway', 'stop');
    expect(stop.code, stop.out).toBe(0);
    expect(stop.out).toContain(`stopping pid ${newPid}`);
    expect(alive(newPid), `${stop.out} ${spawnSync('ps', ['-o', 'pid,ppid,stat,args', '-p', String(newPid)], { encoding: 'utf8' }).stdout}`).toBe(false);
    expect(ptui(home, 'gateway', 'status').code).toBe(3);
  });

  it('a hangup of the console (SSH dropped) with traffic flowing fails no request', async () => {
    const home = simHome();
    const port = await freePort();
    const t = await consoleIn(home, port);
    const pid = pidOnScreen(await t.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 30_000));
    const load = traffic(port);
    await waitFor(() => load.statuses.length >= 10, 'traffic');
    const seenBefore = load.statuses.length;
    t.kill(); // the pty closes: SIGHUP for everything in its session
    await waitFor(() => load.statuses.length >= seenBefore + 20, 'traffic after the hangup', 20_000);
    const statuses = await load.stop();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(alive(pid)).toBe(true);
  });

  it('two consoles at once: the second adopts, both keep their own terminal', async () => {
    const home = simHome();
    const port = await freePort();
    const a = await consoleIn(home, port);
    const pid = pidOnScreen(await a.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 30_000));
    const b = await consoleIn(home, port);
    await b.waitForText('● running (adopted)', 20_000);
    expect(pidOnScreen(b.capture())).toBe(pid);
    a.sendKeys('?');
    await a.waitForText('Keys');
    expect(b.capture()).not.toContain('Keys');
    a.sendKeys('q', 'q');
    expect(await a.waitForExit(15_000)).toBe(0);
    expect(b.display('#{alternate_on}')).toBe('1');
    await b.waitForText('● running (adopted)');
    expect(alive(pid)).toBe(true);
  });

  it('a stale record (its gateway died) means a new gateway', async () => {
    const home = simHome();
    const port = await freePort();
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    fs.mkdirSync(home.runtimeDir, { recursive: true });
    writeInstanceRecord(home.runtimeDir, { pid: deadPid, host: '127.0.0.1', port, secret: newInstanceSecret(), started_at: new Date().toISOString(), version: '0.0.0' });
    const t = await consoleIn(home, port, '--stop-gateway-on-exit');
    const screen = await t.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 30_000);
    expect(pidOnScreen(screen)).not.toBe(deadPid);
    const r = readInstanceRecord(home.runtimeDir);
    expect(r.state === 'ok' && r.record.pid).toBe(pidOnScreen(screen));
    t.sendKeys('q');
    expect(await t.waitForExit(15_000)).toBe(0);
    await waitFor(() => !alive(pidOnScreen(screen)), 'the gateway stopped with the console (--stop-gateway-on-exit)');
    expect(fs.existsSync(instanceRecordPath(home.runtimeDir))).toBe(false);
  });
});

describe.skipIf(!tmuxAvailable())('an impostor on the gateway port', { timeout: 120_000 }, () => {
  it('never receives a credential (with and without a master key) and is named with its pid', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const paths: string[] = [];
    const impostor = http.createServer((req, res) => {
      seen.push(req.headers);
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version: '9.9.9', uptime_s: 5, budgets: [] }));
    });
    const port = await new Promise<number>((r) => impostor.listen(0, '127.0.0.1', () => r((impostor.address() as { port: number }).port)));
    cleanups.push(() => new Promise((r) => impostor.close(r)));
    for (const withKey of [true, false]) {
      const home = simHome();
      if (withKey) fs.writeFileSync(path.join(home.configDir, 'gateway.yaml'), 'master_key: ${AI_BACKEND_MASTER_KEY}\n');
      const before = seen.length;
      const t = await consoleIn(home, port);
      const screen = await t.waitForText(`✗ port ${port} held by another program`, 15_000);
      const column = screen.split('\n').map((l) => l.slice(80).trim()).join(' ');
      expect(column).toContain(`pid ${process.pid}`);
      expect(column).toContain('not ours');
      await waitFor(() => seen.length >= before + 4, 'the console to look a few times');
      t.sendKeys('q');
      expect(await t.waitForExit(15_000)).toBe(0);
    }
    expect(seen.length).toBeGreaterThanOrEqual(8);
    for (const h of seen) {
      expect(h.authorization).toBeUndefined();
      expect(JSON.stringify(h)).not.toContain(MASTER_KEY);
    }
    expect(paths.filter((p) => p !== '/health')).toEqual([]);
  });
});
