// The gateway supervisor without a terminal: real processes and real sockets on 127.0.0.1.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewaySupervisor } from '../../src/tui/gatewayChild/supervisor.js';
import { processGone } from '../../src/tui/gatewayChild/process.js';
import type { TempHome } from '../helpers/config.js';
import type { GatewayChildState } from '../../src/tui/gatewayChild/state.js';
import { startSimUpstream } from '../../src/sim/upstream.js';
import { makeSimHome, startGateway, waitFor, PTUI_BIN, type GatewayChild } from '../helpers/gateway.js';
import { tempDir } from '../helpers/usage.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function supervisor(port: number, args: string[], extra: Partial<ConstructorParameters<typeof GatewaySupervisor>[0]> = {}) {
  const dir = tempDir('ptui-sup-');
  const logFile = path.join(dir.dir, 'logs', 'gateway.log');
  const sup = new GatewaySupervisor({ host: '127.0.0.1', port, spawn: true, args, logFile, runtimeDir: dir.dir, checkEveryMs: 200, ...extra });
  cleanups.push(() => dir.cleanup());
  cleanups.push(() => sup.stop());
  return { sup, logFile };
}

/** A real gateway in front of the simulated upstream, in its own home. */
async function gatewayRunning(): Promise<{ home: TempHome; gw: GatewayChild }> {
  const sim = await startSimUpstream({ recordRequests: false });
  cleanups.push(() => sim.close());
  const home = makeSimHome(sim.url);
  cleanups.push(() => home.cleanup());
  const gw = await startGateway({ home: home.home });
  cleanups.push(() => gw.stop());
  return { home, gw };
}

const waitState = (sup: GatewaySupervisor, ok: (s: GatewayChildState) => boolean, what: string, ms = 10_000) =>
  waitFor(() => ok(sup.getSnapshot()) && sup.getSnapshot(), what, ms);

describe('GatewaySupervisor', () => {
  it('stands aside when another HTTP program holds the port, and says so', async () => {
    const other = http.createServer((_req, res) => res.writeHead(404).end('nope'));
    const port = await listen(other);
    cleanups.push(() => new Promise((r) => other.close(r)));
    const { sup } = supervisor(port, ['-e', 'setTimeout(() => {}, 60000)']);
    await sup.start();
    const s = sup.getSnapshot();
    expect(s.mode).toBe('port-taken');
    expect(s.message).toMatch(/HTTP 404, not a ptui gateway/);
    expect(sup.spawnCount).toBe(0);
  });

  it('stands aside when the port accepts connections but never answers', async () => {
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => sockets.push(s));
    const port = await listen(mute);
    cleanups.push(() => {
      sockets.forEach((s) => s.destroy());
      return new Promise((r) => mute.close(r));
    });
    const { sup } = supervisor(port, ['-e', '0'], { probeTimeoutMs: 300 });
    await sup.start();
    expect(sup.getSnapshot()).toMatchObject({ mode: 'port-taken' });
    expect(sup.getSnapshot().message).toContain('does not answer HTTP');
    expect(sup.spawnCount).toBe(0);
  });

  it('backs off a child that dies at start every time (no busy loop) and shows why', async () => {
    const port = await freePort();
    const script = `process.stderr.write(JSON.stringify({level:'error',event:'config_invalid',error:'boom'})+'\\n'); process.exit(3)`;
    const { sup, logFile } = supervisor(port, ['-e', script], { initialBackoffMs: 100, maxBackoffMs: 400 });
    await sup.start();
    const restarting = await waitState(sup, (s) => s.mode === 'restarting', 'restarting');
    expect(restarting.lastExit).toBe('exit 3: config_invalid: boom');
    expect(restarting.nextRestartAt).toBeGreaterThan(Date.now() - 50);
    await waitFor(() => sup.spawnCount >= 5, 'five spawns', 10_000);
    const spawns = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"supervisor_spawn"'))
      .map((l) => Date.parse(JSON.parse(l).ts));
    const gaps = spawns.slice(1).map((t, i) => t - spawns[i]);
    // 100, 200, 400, then capped at 400: never sooner (timers do not fire early)
    [100, 200, 400, 400].forEach((min, i) => expect(gaps[i]).toBeGreaterThanOrEqual(min - 2));
    expect(sup.getSnapshot().restarts).toBeGreaterThanOrEqual(4);
  });

  describe('with the real gateway', () => {
    it('leaves the gateway serving on quit; the next supervisor adopts it; a dead one is started again', async () => {
      const sim = await startSimUpstream({ recordRequests: false });
      cleanups.push(() => sim.close());
      const home = makeSimHome(sim.url);
      cleanups.push(() => home.cleanup());
      const port = await freePort();
      const args = [PTUI_BIN, '--home', home.home, 'gateway', '--port', String(port)];
      const { sup } = supervisor(port, args, { runtimeDir: home.runtimeDir });
      await sup.start();
      const first = await waitState(sup, (s) => s.mode === 'running', 'running', 20_000);
      cleanups.push(() => {
        for (const pid of [first.pid]) if (pid && alive(pid)) process.kill(pid, 'SIGTERM');
      });
      await sup.stop();
      expect(alive(first.pid!)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

      const { sup: next } = supervisor(port, args, { runtimeDir: home.runtimeDir, stopOnExit: true, initialBackoffMs: 100 });
      await next.start();
      expect(next.getSnapshot()).toMatchObject({ mode: 'running', adopted: true, pid: first.pid });
      process.kill(first.pid!, 'SIGKILL');
      const again = await waitState(next, (s) => s.mode === 'running' && s.pid !== first.pid, 'a new gateway after the adopted one died', 20_000);
      expect(again.adopted).toBe(false);
      await next.stop();
      expect(alive(again.pid!)).toBe(false);
    });

    it('stands aside for a ptui gateway it cannot prove is ours (another runtime dir), naming its pid', async () => {
      const { home, gw } = await gatewayRunning();
      const { sup } = supervisor(gw.port, [PTUI_BIN, 'gateway']);
      await sup.start();
      expect(sup.getSnapshot()).toMatchObject({ mode: 'port-taken', health: null });
      expect(sup.getSnapshot().message).toContain(`pid ${gw.child.pid} (`);
      expect(sup.getSnapshot().message).toContain('not ours: nothing recorded in the runtime dir');
      expect(sup.trustedUrl).toBeNull();
      expect(sup.spawnCount).toBe(0);
      expect(await sup.restart()).toMatch(/held by another program/);
      expect(gw.child.exitCode).toBeNull();
    });

    it('adopts the gateway its runtime dir records once it proves itself, and restarts it on R', async () => {
      const { home, gw } = await gatewayRunning();
      const { sup } = supervisor(gw.port, [PTUI_BIN, '--home', home.home, 'gateway', '--port', String(gw.port)], { runtimeDir: home.runtimeDir, stopOnExit: true });
      await sup.start();
      expect(sup.getSnapshot()).toMatchObject({ mode: 'running', adopted: true, pid: gw.child.pid, health: 'ok' });
      expect(sup.trustedUrl).toBe(`http://127.0.0.1:${gw.port}`);
      expect(sup.spawnCount).toBe(0);
      expect(await sup.restart()).toBe('gateway restarted');
      await waitFor(() => gw.child.exitCode !== null || gw.child.signalCode !== null, 'the adopted gateway to stop');
      const next = await waitState(sup, (s) => s.mode === 'running' && s.pid !== gw.child.pid, 'a new gateway running', 20_000);
      expect(next).toMatchObject({ adopted: false, restarts: 1 });
      expect(sup.spawnCount).toBe(1);
    });

    it('spawns, restarts on G with a new pid, and stops the child on quit', async () => {
      const sim = await startSimUpstream({ recordRequests: false });
      cleanups.push(() => sim.close());
      const home = makeSimHome(sim.url);
      cleanups.push(() => home.cleanup());
      const port = await freePort();
      const { sup, logFile } = supervisor(port, [PTUI_BIN, '--home', home.home, 'gateway', '--port', String(port)], { runtimeDir: home.runtimeDir, stopOnExit: true });
      await sup.start();
      const first = await waitState(sup, (s) => s.mode === 'running', 'running', 20_000);
      expect(first.pid).toBe(sup.childPid);
      expect(await sup.restart()).toBe('gateway restarted');
      const second = await waitState(sup, (s) => s.mode === 'running' && s.pid !== first.pid, 'running again', 20_000);
      expect(second.restarts).toBe(1);
      expect(() => process.kill(first.pid!, 0)).toThrow();
      await sup.stop();
      expect(sup.getSnapshot().mode).toBe('stopped');
      expect(() => process.kill(second.pid!, 0)).toThrow();
      expect(fs.readFileSync(logFile, 'utf8')).toContain('"event":"listening"');
    });
  });
});

// a gateway that exited may stay a zombie for a moment; gone either way
const alive = (pid: number) => !processGone(pid);

async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}
