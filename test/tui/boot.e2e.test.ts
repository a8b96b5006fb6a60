// The real `ptui` in tmux on a box without GPU and systemd: every panel, one line for each
// missing piece, the help and routing views, a too-small terminal and back, and `q` leaving
// the terminal as it was. Needs a build (npm test runs one first).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome, type TempHome } from '../helpers/config.js';
import { freePort } from '../helpers/gateway.js';
import { PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

const PANEL_TITLES = ['1 GPUs', '2 Host', '3 Services', '4 Gateway', '5 Budgets', '6 Requests'];

describe.skipIf(!tmuxAvailable())('dashboard without GPU and systemd', () => {
  let home: TempHome;
  let bin: string;
  let t: TmuxSession;

  beforeAll(async () => {
    home = makeHome();
    bin = bareBinDir();
    const port = await freePort();
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--no-gateway'],
      env: cleanEnv({ PATH: bin, HOME: home.home, PTUI_SYSTEMD_DIR: path.join(home.home, 'no-systemd-here') }),
    });
  });

  afterAll(() => {
    t?.kill();
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('opens full screen with every panel and one line for each missing piece', async () => {
    const screen = await t.waitForScreen(
      (s) => PANEL_TITLES.every((p) => s.includes(p)) && s.includes('systemd unavailable') && s.includes('nvidia-smi not found') && s,
      'all panels and both notices',
    );
    expect(t.display('#{alternate_on}')).toBe('1');
    expect(t.display('#{cursor_flag}')).toBe('0');
    const lines = screen.split('\n');
    expect(lines.filter((l) => l.includes('nvidia-smi not found'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('systemd unavailable'))).toHaveLength(1);
    // the sample config's units, in config order, and its budgets
    expect(screen.indexOf('vllm.service')).toBeLessThan(screen.indexOf('ollama.service'));
    expect(screen).toMatch(/model gpt-4 .*\$5\.00/);
    expect(screen).toContain('disabled (--no-gateway)');
    // the frame is one line shorter than the terminal: the last row stays empty
    expect(lines[39] ?? '').toBe('');
    expect(lines[38]).toMatch(/\S/);
  });

  it('refuses service actions without systemd and says why', async () => {
    t.sendKeys('x');
    // the answer is on the status line (the last line drawn), not only the panel's notice
    const screen = await t.waitForScreen(
      (s) => s.split('\n')[38]?.startsWith('systemd unavailable: service actions disabled') && s,
      'the refusal on the status line',
    );
    expect(screen).not.toContain('? y/n');
  });

  it('shows the help overlay with every key and closes it with Esc', async () => {
    t.sendKeys('?');
    // the help scrolls: its first page, then its last
    const top = await t.waitForText('Keys');
    t.sendKeys('G');
    const help = top + (await t.waitForText('quit, from anywhere'));
    for (const key of ['Tab', 'Shift-Tab', 'j / ↓', 'k / ↑', 'g / Home', 'G / End', 'Enter', 's ', 'x ', 'r ', 'l ', 'L ', 'c ', 'e ', 'R ', 'q / Esc', 'Ctrl-C']) {
      expect(help).toContain(`  ${key}`);
    }
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
  });

  it('shows the routing table on c', async () => {
    t.sendKeys('c');
    const routing = await t.waitForText('Routing and config');
    expect(routing).toMatch(/gpt-4\s+chat/);
    expect(routing).toMatch(/1\. vllm\s+meta-llama\/Llama-3\.1-70B-Instruct/);
    expect(routing).toMatch(/2\. openai\s+gpt-4o\s+\$2\.5\/\$10 per 1M/);
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
  });

  it('shows a notice at 60×20 and renders normally again at 120×40', async () => {
    t.resize(60, 20);
    await t.waitForText('terminal too small: 60×20, need 80×24');
    t.resize(120, 40);
    const screen = await t.waitForScreen((s) => PANEL_TITLES.every((p) => s.includes(p)) && s, 'panels after resize');
    expect(screen).not.toContain('terminal too small');
  });

  it('is readable at 80×24', async () => {
    t.resize(80, 24);
    const screen = await t.waitForScreen((s) => PANEL_TITLES.every((p) => s.includes(p)) && !s.includes('too small') && s, 'panels at 80x24');
    for (const line of screen.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(screen).toContain('vllm');
    t.resize(120, 40);
    await t.waitForText(/─ 1 GPUs ─{40}/);
  });

  it('quits on q with the main screen back and the cursor visible', async () => {
    t.sendKeys('q');
    expect(await t.waitForExit()).toBe(0);
    expect(t.display('#{alternate_on}')).toBe('0');
    expect(t.display('#{cursor_flag}')).toBe('1');
  });
});

// Ink draws only its last frame when CI is set; a dashboard on a terminal must draw live anyway
// (CI jobs and some operators' shells export CI=true).
describe.skipIf(!tmuxAvailable())('dashboard with CI=true in its environment', () => {
  it('still draws every panel live and quits cleanly', async () => {
    const home = makeHome();
    const bin = bareBinDir();
    const port = await freePort();
    const t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--no-gateway'],
      env: cleanEnv({ PATH: bin, HOME: home.home, CI: 'true', CONTINUOUS_INTEGRATION: '1', PTUI_SYSTEMD_DIR: path.join(home.home, 'none') }),
    });
    try {
      await t.waitForScreen((s) => PANEL_TITLES.every((p) => s.includes(p)) && s, 'all panels with CI=true');
      t.sendKeys('q');
      await t.waitForScreen(() => t.display('#{alternate_on}') === '0', 'the main screen back after q');
    } finally {
      t.kill();
      home.cleanup();
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
