// What the GPU panel says when nvidia-smi misbehaves, in the real dashboard: the driver not
// loaded (exit 9) is one line and the rest works; Xid lines mid-stream change nothing visible.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome } from '../helpers/config.js';
import { freePort } from '../helpers/gateway.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

const cleanups: Array<() => unknown> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function withMode(mode: string): Promise<TmuxSession> {
  const home = makeHome();
  const bin = bareBinDir();
  const port = await freePort();
  const t = await startTmux({
    argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--no-gateway'],
    env: cleanEnv({ PATH: `${FAKE_BIN_DIR}:${bin}`, HOME: home.home, PTUI_SYSTEMD_DIR: path.join(home.home, 'none'), FAKE_NVIDIA_SMI_MODE: mode }),
  });
  cleanups.push(() => {
    t.kill();
    home.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });
  return t;
}

describe.skipIf(!tmuxAvailable())('GPU panel with a misbehaving nvidia-smi', () => {
  it('driver not loaded (exit 9): one line, everything else works', async () => {
    const t = await withMode('exit9');
    const screen = await t.waitForText('NVIDIA driver not loaded (nvidia-smi exit 9)');
    expect(screen.split('\n').filter((l) => l.includes('NVIDIA driver not loaded'))).toHaveLength(1);
    expect(screen).not.toMatch(/^0 H100/m);
    expect(screen).toMatch(/model gpt-4 .*\$5\.00/);
    t.sendKeys('q');
    expect(await t.waitForExit()).toBe(0);
  });

  it('Xid lines mid-stream: both GPUs keep updating, no stray text', async () => {
    const t = await withMode('xid');
    const first = await t.waitForScreen((s) => /^0 H100/m.test(s) && /^1 H100/m.test(s) && s, 'both GPUs');
    const gpuLines = (s: string) => s.split('\n').filter((l) => /^[01] H100/.test(l)).join('\n');
    // the fake prints an Xid line every third loop: watch four distinct readings go by
    const seen = new Set([gpuLines(first)]);
    const later = await t.waitForScreen((s) => (seen.add(gpuLines(s)), seen.size >= 5) && s, 'four more GPU readings', 15_000);
    expect(later).not.toMatch(/Xid/);
    expect(later).toMatch(/^0 H100/m);
    expect(later).toMatch(/^1 H100/m);
    expect(later).not.toContain('nvidia-smi failed');
  });
});
