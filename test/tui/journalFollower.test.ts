// The journal view's source against the fake journalctl (a faithful copy of the real one's
// flags and `-o json` output): entries as they are appended, coloured by PRIORITY, bytes and
// escape sequences made harmless, a burst of 10,000 lines held in bounded memory and announced
// in a few updates, and exactly one child, reaped when the view stops it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/config/instance-record.js';
import { JournalFollower, type JournalCommand } from '../../src/tui/data/journalFollower.js';
import { journalLine } from '../../src/tui/presentation/logLines.js';
import { journalFollowArgs } from '../../src/system/systemctl.js';
import type { FollowLimits, FollowState } from '../../src/tui/data/lineFollower.js';
import { FAKE_BIN_DIR, bareBinDir } from '../helpers/tmux.js';
import { waitFor } from '../helpers/gateway.js';
import { tempDir } from '../helpers/usage.js';

/** a zombie still answers: false means gone and reaped */
const alive = isProcessAlive;

describe('JournalFollower', () => {
  let dir: { dir: string; cleanup: () => void };
  let bin: string;
  let journal: string;
  let log: string;
  let followers: JournalFollower[];

  beforeEach(() => {
    dir = tempDir('ptui-journal-');
    bin = bareBinDir();
    journal = path.join(dir.dir, 'vllm.service.journal');
    log = path.join(dir.dir, 'journalctl.log');
    fs.writeFileSync(path.join(dir.dir, 'vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: 1 }));
    followers = [];
  });

  afterEach(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    dir.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  const command = (unit = 'vllm.service', pathDirs = `${FAKE_BIN_DIR}:${bin}`): JournalCommand => ({
    argv: ['journalctl', ...journalFollowArgs(unit, 'system')],
    env: { PATH: pathDirs, FAKE_SYSTEMD_STATE: dir.dir, FAKE_JOURNALCTL_LOG: log, LC_ALL: 'C' },
  });
  const follow = (cmd: JournalCommand = command(), limits?: FollowLimits) => {
    const f = new JournalFollower(cmd, (e) => journalLine(e, 'vllm.service'), limits);
    followers.push(f);
    f.start();
    return f;
  };
  const until = (f: JournalFollower, check: (s: FollowState) => boolean, what: string) =>
    waitFor(() => check(f.getSnapshot()) && f.getSnapshot(), what, 20_000);
  const entry = (fields: Record<string, unknown>) => JSON.stringify(fields) + '\n';

  it('shows the last entries, then each new one, coloured by PRIORITY', async () => {
    fs.writeFileSync(journal, entry({ MESSAGE: 'engine started', PRIORITY: '6' }) + entry({ MESSAGE: 'KV cache nearly full', PRIORITY: '4' }));
    const f = follow();
    await until(f, (s) => s.lines.length === 2, 'the two first entries');
    fs.appendFileSync(journal, entry({ MESSAGE: 'CUDA out of memory', PRIORITY: '3', SYSLOG_IDENTIFIER: 'vllm', _PID: '777' }));
    fs.appendFileSync(journal, '2026-12-01T10:00:00+00:00 box vllm[777]: WARNING a text line\n');
    const s = await until(f, (x) => x.lines.length === 4, 'the appended entries');
    expect(s.lines.map((l) => l.tone)).toEqual([null, 'warn', 'bad', 'warn']);
    expect(s.lines[2].text).toMatch(/^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} vllm\[777\]: CUDA out of memory$/);
    expect(s.status).toBe('following');
    // one journalctl for the view, the follow form of it
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l).argv);
    expect(calls).toEqual([['-u', 'vllm.service', '-n', '200', '-f', '-o', 'json', '--no-pager']]);
  });

  it('stops and reaps its one child when the view closes', async () => {
    fs.writeFileSync(journal, entry({ MESSAGE: 'hello' }));
    const f = follow();
    await until(f, (s) => s.lines.length === 1, 'the entry');
    const pid = f.pid!;
    expect(alive(pid)).toBe(true);
    await f.stop();
    expect(f.pid).toBeNull();
    expect(alive(pid)).toBe(false); // reaped: a zombie would still answer
    fs.appendFileSync(journal, entry({ MESSAGE: 'after the view closed' }));
    expect(f.getSnapshot().status).toBe('following'); // a stop is not a failure to show
  });

  it('holds a burst of 10,000 lines in bounded memory and announces it in a few updates', async () => {
    const limits = { maxLines: 1000, maxChars: 60_000, lineChars: 200 };
    fs.writeFileSync(journal, entry({ MESSAGE: 'before the burst' }));
    const f = follow(command(), limits);
    await until(f, (s) => s.total === 1, 'journalctl following'); // the burst must come after its first read
    const burst = Array.from({ length: 10_000 }, (_, i) => entry({ MESSAGE: `line ${i} ${'x'.repeat(i % 7 === 0 ? 500 : 20)}`, PRIORITY: '6' })).join('');
    fs.appendFileSync(journal, burst);
    const s = await until(f, (x) => x.total === 10_001, 'all 10,000 lines read');
    expect(s.lines.length).toBeLessThanOrEqual(limits.maxLines);
    expect(s.lines.reduce((n, l) => n + l.text.length, 0)).toBeLessThanOrEqual(limits.maxChars);
    expect(s.lines.every((l) => l.text.length <= limits.lineChars)).toBe(true);
    expect(s.lines.at(-1)!.text).toContain('line 9999 ');
    expect(s.lines.at(-1)!.seq).toBe(10_000);
    expect(f.emits).toBeLessThan(200);
  });

  it('decodes MESSAGE bytes and strips escape sequences before they are kept', async () => {
    const hostile = 'title \x1b]0;pwned\x07 red \x1b[31mX\x1b[0m';
    const invalid = [...Buffer.from('bad '), 0xff, 0xfe, ...Buffer.from(' end')];
    fs.writeFileSync(journal, entry({ MESSAGE: hostile, PRIORITY: '3' }) + entry({ MESSAGE: invalid }) + entry({ MESSAGE: 'y'.repeat(5000) }));
    const f = follow();
    const s = await until(f, (x) => x.lines.length === 3, 'three entries');
    const raw = fs.readFileSync(journal, 'utf8');
    expect(raw).toContain('\\u001b'); // the fake's file holds the escapes; journalctl sends them as bytes
    expect(s.lines[0].text).toMatch(/title \uFFFD red \uFFFDX\uFFFD$/);
    expect(s.lines[0].tone).toBe('bad');
    expect(s.lines[1].text).toMatch(/bad \uFFFD+ end$/);
    // journalctl leaves out a value over 4 KiB (null) unless -a: the view says so
    expect(s.lines[2].text).toContain('a message over 4 KiB, left out');
    for (const l of s.lines) expect(l.text).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });

  it('says why when journalctl is missing, refuses the unit or exits', async () => {
    const missing = follow(command('vllm.service', bin));
    await until(missing, (s) => s.status === 'failed', 'the failure');
    expect(missing.getSnapshot().note).toBe('journalctl not found');
    const refused = follow({ error: 'evil.service is not a configured service: refused' });
    expect(refused.getSnapshot()).toMatchObject({ status: 'failed', note: 'evil.service is not a configured service: refused' });
    const bad = follow({ ...command(), argv: ['journalctl', '-u', 'vllm.service', '--bogus'] });
    await until(bad, (s) => s.status === 'failed', 'the exit');
    expect(bad.getSnapshot().note).toBe("journalctl: unrecognized option '--bogus'");
  });
});
