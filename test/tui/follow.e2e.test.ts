// The real `ptui` in tmux following logs: `l` runs exactly one `journalctl -f -o json` (the
// fake one on PATH) while the journal view is open and shows entries as they are appended,
// errors in red and warnings in yellow, searched with `/`; closing the view stops and reaps that child. `L`
// follows runtime/logs/gateway.log the same way, across a rotation.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/config/instance-record.js';
import { cleanEnv, makeHome, type TempHome } from '../helpers/config.js';
import { freePort, waitFor } from '../helpers/gateway.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

/** a zombie still answers: false means gone and reaped */
const alive = isProcessAlive;

describe.skipIf(!tmuxAvailable())('following the journal and the gateway log', () => {
  let home: TempHome;
  let bin: string;
  let t: TmuxSession;
  const file = (name: string) => path.join(home.home, name);
  const follows = () =>
    fs.existsSync(file('journalctl.log'))
      ? fs.readFileSync(file('journalctl.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; argv: string[] }).filter((c) => c.argv.includes('-f'))
      : [];
  const entry = (MESSAGE: string, PRIORITY = '6') => JSON.stringify({ MESSAGE, PRIORITY, SYSLOG_IDENTIFIER: 'vllm', _PID: '4242' }) + '\n';

  beforeAll(async () => {
    home = makeHome();
    bin = bareBinDir();
    const state = file('systemd');
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, 'vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: process.pid }));
    fs.writeFileSync(path.join(state, 'ollama.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', MainPID: 0 }));
    fs.writeFileSync(path.join(state, 'vllm.service.journal'), entry('engine up') + entry('first warning here', '4'));
    fs.mkdirSync(path.join(home.runtimeDir, 'logs'), { recursive: true });
    fs.writeFileSync(path.join(home.runtimeDir, 'logs', 'gateway.log'), JSON.stringify({ ts: new Date().toISOString(), level: 'info', event: 'listening', port: 4000 }) + '\n');
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(await freePort()), '--no-gateway'],
      env: cleanEnv({
        PATH: `${FAKE_BIN_DIR}:${bin}`,
        HOME: home.home,
        NO_COLOR: '',
        PTUI_SYSTEMD_DIR: state,
        FAKE_SYSTEMD_STATE: state,
        FAKE_JOURNALCTL_LOG: file('journalctl.log'),
      }),
    });
  });

  afterAll(() => {
    t?.kill();
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('follows the selected unit’s journal with one journalctl child, coloured by priority', async () => {
    await t.waitForText(/▸ vllm\.service/, 20_000);
    t.sendKeys('l');
    await t.waitForText(/Journal: vllm\.service[^]*first warning here/);
    expect(follows()).toHaveLength(1);
    const [child] = follows();
    expect(child.argv).toEqual(['-u', 'vllm.service', '-n', '200', '-f', '-o', 'json', '--no-pager']);
    expect(alive(child.pid)).toBe(true);
    fs.appendFileSync(file('systemd/vllm.service.journal'), entry('CUDA error: out of memory', '3') + entry('request served'));
    await t.waitForText(/CUDA error: out of memory[^]*request served/);
    const coloured = t.capture({ escapes: true });
    const red = coloured.split('\n').find((l) => l.includes('CUDA error'))!;
    const yellow = coloured.split('\n').find((l) => l.includes('first warning here'))!;
    expect(red).toMatch(/\x1b\[(?:[\d;]*;)?31m/);
    expect(yellow).toMatch(/\x1b\[(?:[\d;]*;)?33m/);
    expect(t.capture()).toMatch(/following · 4 lines/);
    // `/` keeps the lines that hold the text, literally; Esc in the prompt clears it
    t.sendKeys('/', 'CUDA');
    const filtered = await t.waitForText(/filter: CUDA · 1 of 4/);
    expect(filtered).toContain('CUDA error: out of memory');
    expect(filtered).not.toContain('request served');
    t.sendKeys('Escape');
    await t.waitForText(/following · 4 lines[^]*/);
    expect(t.capture()).toContain('request served');
    expect(follows()).toHaveLength(1); // still the one child
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
    await waitFor(() => !alive(child.pid), 'the journalctl child to be stopped and reaped');
  });

  it('follows the gateway log across a rotation', async () => {
    const log = path.join(home.runtimeDir, 'logs', 'gateway.log');
    t.sendKeys('L');
    await t.waitForText(/Gateway log[^]*INFO +listening port=4000/);
    fs.appendFileSync(log, JSON.stringify({ ts: new Date().toISOString(), level: 'error', event: 'upstream_error', msg: 'connect ECONNREFUSED' }) + '\n');
    await t.waitForText(/ERROR upstream_error: connect ECONNREFUSED/);
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, JSON.stringify({ ts: new Date().toISOString(), level: 'warn', event: 'after_rotation' }) + '\n');
    await t.waitForText(/WARN +after_rotation/);
    t.sendKeys('q');
    await t.waitForText('6 Requests');
  });

  it('quits cleanly with no journalctl left behind', async () => {
    t.sendKeys('l');
    await t.waitForText(/Journal: vllm\.service[^]*request served/);
    await waitFor(() => follows().length === 2 && follows()[1], 'the second view’s child');
    const second = follows()[1];
    t.sendKeys('C-c');
    expect(await t.waitForExit()).toBe(0);
    await waitFor(() => !alive(second.pid), 'the journalctl child to go with the console');
  });
});
