// The real `ptui` in tmux supervising the real gateway in front of the simulated upstream:
// requests appear in the Requests panel, a budget turns red with EXCEEDED, a `kill -9` of the
// child is restarted and shown, and quitting stops the child.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { cleanEnv, type TempHome } from '../helpers/config.js';
import { freePort, makeSimHome } from '../helpers/gateway.js';
import { PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function gatewayPid(screen: string): number | null {
  const m = /● running\s+restarts \d+\s*\n.*?pid (\d+)/.exec(screen);
  return m ? Number(m[1]) : null;
}

describe.skipIf(!tmuxAvailable())('dashboard supervising the real gateway', () => {
  let sim: SimUpstream;
  let home: TempHome;
  let bin: string;
  let port: number;
  let t: TmuxSession;

  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: false });
    // 1000 $/1M tokens: each request costs about a cent, so the 2-cent budget is gone after two
    home = makeSimHome(sim.url, {
      models: {
        chat: {
          capability: 'chat',
          budget: { max_budget_usd: 0.02, budget_window: '1h', action: 'warn' },
          targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1000, output_usd_per_1m: 1000 } }],
        },
      },
    });
    bin = bareBinDir();
    port = await freePort();
    const env = cleanEnv({ PATH: bin, HOME: home.home, PTUI_SYSTEMD_DIR: path.join(home.home, 'none') });
    delete (env as Record<string, string | undefined>).NO_COLOR; // colours on: the budget must turn red
    t = await startTmux({ argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--stop-gateway-on-exit'], env });
  });

  afterAll(async () => {
    t?.kill();
    await sim?.close();
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  const chat = () =>
    fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] }),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('starts the gateway child and shows it running, with its output in gateway.log', async () => {
    const screen = await t.waitForText('● running', 20_000);
    const pid = gatewayPid(screen);
    expect(pid).not.toBeNull();
    expect(alive(pid!)).toBe(true);
    const log = fs.readFileSync(path.join(home.runtimeDir, 'logs', 'gateway.log'), 'utf8');
    expect(log).toContain('"event":"listening"');
    expect(screen).not.toContain('"event"'); // nothing of the child's output on the screen
  });

  it('shows a request sent through the gateway in Requests', async () => {
    expect(await chat()).toBe(200);
    const screen = await t.waitForText(/\d\d:\d\d:\d\d chat\s+sim\s+ok 200/, 5000);
    expect(screen).toMatch(/chat\s+sim\s+ok 200\s+\d+ms\s+\d+\/8\s+\$0\.01/);
  });

  it('turns the exceeded budget red with EXCEEDED', async () => {
    expect(await chat()).toBe(200);
    expect(await chat()).toBe(200);
    await t.waitForText(/model chat .*EXCEEDED/, 10_000);
    const line = t
      .capture({ escapes: true })
      .split('\n')
      .find((l) => l.includes('EXCEEDED'))!;
    expect(line).toMatch(/\x1b\[[0-9;]*31m[^\x1b]*EXCEEDED/);
    expect(t.capture()).toMatch(/model chat\s+\$0\.0\d{3}\/\$0\.0200 █+\s*\d{3}%/);
  });

  it('restarts a child killed with -9 and shows the new one', async () => {
    const before = gatewayPid(t.capture())!;
    process.kill(before, 'SIGKILL');
    const screen = await t.waitForScreen((s) => {
      const pid = gatewayPid(s);
      return pid !== null && pid !== before && /restarts 1/.test(s) && s;
    }, 'a new gateway child running', 5000);
    expect(alive(gatewayPid(screen)!)).toBe(true);
    // and it serves again
    expect(await chat()).toBe(200);
  });

  it('stops the child on q (--stop-gateway-on-exit)', async () => {
    const pid = gatewayPid(t.capture())!;
    t.sendKeys('q');
    expect(await t.waitForExit(15_000)).toBe(0);
    expect(alive(pid)).toBe(false);
  });
});
