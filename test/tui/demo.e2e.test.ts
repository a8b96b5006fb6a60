// `ptui demo` in tmux: requests, budgets and the routing table move within seconds, and
// quitting leaves no temp home and no gateway child behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/config.js';
import { PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

// The demo sends a few requests a second; on a busy shared machine its first frames, the gateway
// child and the traffic client all start slower, so each wait allows far more than the usual 1-2 s.
const DEMO_WAIT_MS = 20_000;

const ROW = /^\d\d:\d\d:\d\d (\S+)\s+\S+\s+(ok|err) \d{3}/gm;

describe.skipIf(!tmuxAvailable())('ptui demo', () => {
  let tmp: string;
  let bin: string;
  let t: TmuxSession;

  beforeAll(async () => {
    // the demo's temp home goes under TMPDIR: this test's own directory
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-demo-test-'));
    bin = bareBinDir();
    t = await startTmux({
      argv: ['node', PTUI_BIN, 'demo'],
      env: cleanEnv({ PATH: bin, HOME: tmp, TMPDIR: tmp, PTUI_SYSTEMD_DIR: path.join(tmp, 'none') }),
    });
  });

  afterAll(() => {
    t?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('shows requests arriving and budgets spending within seconds', async () => {
    await t.waitForText('6 Requests', 10_000);
    const first = await t.waitForScreen((s) => (s.match(ROW)?.length ?? 0) >= 2 && s, 'demo requests', DEMO_WAIT_MS);
    const countOf = (s: string) => s.match(ROW)?.length ?? 0;
    // moving: more rows than at first (or a new top row once the panel is full)
    await t.waitForScreen((s) => (countOf(s) > countOf(first) || s.match(ROW)![0] !== first.match(ROW)![0]) && s, 'more requests', DEMO_WAIT_MS);
    await t.waitForText(/model gpt-4o\s+\$0\.0\d*[1-9]\d*\/\$0\.02/, 10_000);
    expect(t.capture()).toContain('● running');
  });

  it('shows the routing table with live counts', async () => {
    t.sendKeys('c');
    const screen = await t.waitForText(/1\. cloud\s+gpt-4o\s+\$2\.5\/\$10 per 1M\s+\d+ req/, DEMO_WAIT_MS);
    expect(screen).toContain('free (local)');
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
  });

  it('cleans up on q: no temp home, no gateway child', async () => {
    const homes = () => fs.readdirSync(tmp).filter((n) => n.startsWith('ptui-demo-'));
    expect(homes()).toHaveLength(1);
    const gwPid = Number((await t.waitForScreen((s) => /pid (\d+)\s+:\d+/.exec(s), 'the gateway pid'))[1]);
    t.sendKeys('q');
    expect(await t.waitForExit(15_000)).toBe(0);
    expect(homes()).toHaveLength(0);
    expect(() => process.kill(gwPid, 0)).toThrow();
    expect(t.display('#{alternate_on}')).toBe('0');
  });
});
