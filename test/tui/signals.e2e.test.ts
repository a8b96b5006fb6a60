// Every way out restores the terminal (main screen, cursor visible): Ctrl-C, SIGTERM, SIGHUP
// (the SSH connection dropped, which also must not leave the gateway child running), and an
// uncaught error. Plus a gateway port held by another program: said once, the rest works.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome } from '../helpers/config.js';
import { freePort, makeSimHome, waitFor } from '../helpers/gateway.js';
import { PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';
import { startSimUpstream } from '../../src/sim/upstream.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dashboard(args: string[] = ['--no-gateway'], home = makeHome().home): Promise<{ t: TmuxSession; home: string }> {
  const bin = bareBinDir();
  const port = await freePort();
  const t = await startTmux({
    argv: ['node', PTUI_BIN, '--home', home, '--port', String(port), ...args],
    env: cleanEnv({ PATH: bin, HOME: home, PTUI_SYSTEMD_DIR: path.join(home, 'none') }),
  });
  cleanups.push(() => {
    t.kill();
    fs.rmSync(bin, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });
  await t.waitForText('6 Requests');
  expect(t.display('#{alternate_on}')).toBe('1');
  return { t, home };
}

function expectRestored(t: TmuxSession) {
  expect(t.display('#{alternate_on}')).toBe('0');
  expect(t.display('#{cursor_flag}')).toBe('1');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!tmuxAvailable())('leaving the terminal as it was', () => {
  it('on Ctrl-C', async () => {
    const { t } = await dashboard();
    t.sendKeys('C-c');
    await t.waitForExit();
    expectRestored(t);
  });

  it('on SIGTERM', async () => {
    const { t } = await dashboard();
    process.kill(t.pid(), 'SIGTERM');
    expect(await t.waitForExit()).toBe(0);
    expectRestored(t);
  });

  it('on SIGHUP, and with --stop-gateway-on-exit the gateway goes too', async () => {
    const sim = await startSimUpstream({ recordRequests: false });
    cleanups.push(() => sim.close());
    const { t } = await dashboard(['--stop-gateway-on-exit'], makeSimHome(sim.url).home);
    const screen = await t.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 20_000);
    const child = Number(/pid (\d+)\s+:\d+/.exec(screen)![1]);
    expect(alive(child)).toBe(true);
    process.kill(t.pid(), 'SIGHUP');
    await t.waitForExit(15_000);
    expectRestored(t);
    expect(alive(child)).toBe(false);
  });

  it('when the terminal itself goes away (SSH dropped): the dashboard exits, and with --stop-gateway-on-exit its gateway', async () => {
    const sim = await startSimUpstream({ recordRequests: false });
    cleanups.push(() => sim.close());
    const { t } = await dashboard(['--stop-gateway-on-exit'], makeSimHome(sim.url).home);
    const screen = await t.waitForText(/● running\s+restarts 0\s*\n.*pid \d+/, 20_000);
    const child = Number(/pid (\d+)\s+:\d+/.exec(screen)![1]);
    const pid = t.pid();
    t.kill(); // closes the pty: hangup for everything on it
    await waitFor(() => !alive(pid) && !alive(child), 'the dashboard and the gateway child to exit', 15_000);
  });

  it('on an uncaught exception or rejection after drawing', async () => {
    for (const kind of ['exception', 'rejection']) {
      const bin = bareBinDir();
      const t = await startTmux({
        argv: ['node', path.join(import.meta.dirname, 'fixtures', 'crash-after-render.mjs'), kind],
        env: cleanEnv({ PATH: bin }),
      });
      cleanups.push(() => {
        t.kill();
        fs.rmSync(bin, { recursive: true, force: true });
      });
      expect(await t.waitForExit()).toBe(1);
      expectRestored(t);
      expect(t.capture()).toContain(kind === 'exception' ? 'fatal: boom' : 'fatal: unhandled boom');
    }
  });
});

describe.skipIf(!tmuxAvailable())('gateway port held by another program', () => {
  it('says so in the Gateway panel and everything else still works', async () => {
    const other = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>grafana</h1>'));
    const port = await new Promise<number>((r) => other.listen(0, '127.0.0.1', () => r((other.address() as { port: number }).port)));
    cleanups.push(() => new Promise((r) => other.close(r)));
    const home = makeHome();
    const bin = bareBinDir();
    const t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port)],
      env: cleanEnv({ PATH: bin, HOME: home.home, PTUI_SYSTEMD_DIR: path.join(home.home, 'none') }),
    });
    cleanups.push(() => {
      t.kill();
      home.cleanup();
      fs.rmSync(bin, { recursive: true, force: true });
    });
    const screen = await t.waitForText(`✗ port ${port} held by another program`, 10_000);
    // the Gateway panel is the right-hand column (from column 81 at 120 wide)
    const gatewayColumn = screen
      .split('\n')
      .map((l) => l.slice(80).trim())
      .join(' ');
    expect(gatewayColumn).toContain('GET /health answered HTTP 200, not a ptui gateway');
    t.sendKeys('c');
    await t.waitForText('Routing and config');
    t.sendKeys('Escape', 'q');
    expect(await t.waitForExit()).toBe(0);
  });
});
