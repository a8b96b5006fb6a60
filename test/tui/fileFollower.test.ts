// The gateway-log view's source on real files, one poll at a time (tick() by hand, so nothing
// here waits on a timer): the file's last lines, appended lines, a rotation (the old file read
// to its end, then the new one), a deletion and the file's return, a truncation, a backlog too
// large to read (skipped, said), partial and overlong lines, and escape sequences removed.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFollower } from '../../src/tui/data/fileFollower.js';
import { gatewayLogLine } from '../../src/tui/presentation/logLines.js';
import { tempDir } from '../helpers/usage.js';

describe('FileFollower', () => {
  let dir: { dir: string; cleanup: () => void };
  let file: string;
  let f: FileFollower;

  beforeEach(() => {
    dir = tempDir('ptui-follow-');
    file = path.join(dir.dir, 'gateway.log');
  });

  afterEach(() => {
    f?.killNow();
    dir.cleanup();
  });

  const open = (opts: Partial<ConstructorParameters<typeof FileFollower>[0]> = {}) => {
    // a poll far in the future: each test moves the follower on with tick()
    f = new FileFollower({ file, format: gatewayLogLine, pollMs: 3_600_000, ...opts });
    f.start();
    return f;
  };
  const texts = () => f.getSnapshot().lines.map((l) => l.text);
  const log = (event: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ ts: '2026-12-01T10:00:00.000Z', level: 'info', event, ...extra }) + '\n';
  const tick = () => f.tick();

  it('starts with the last lines, then reads what is appended, rendered readable', () => {
    fs.writeFileSync(file, log('listening', { port: 4000 }) + log('budget', { level: 'warn', model: 'gpt-4', pct: 91 }));
    open();
    tick();
    expect(texts()).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d INFO  listening port=4000$/), expect.stringMatching(/WARN  budget model=gpt-4 pct=91$/)]);
    expect(f.getSnapshot().lines.map((l) => l.tone)).toEqual([null, 'warn']);
    fs.appendFileSync(file, log('upstream_error', { level: 'error', msg: 'connect ECONNREFUSED', provider: 'vllm' }));
    fs.appendFileSync(file, 'a plain line from a crash\n{"half":');
    tick();
    expect(texts().slice(2)).toEqual([expect.stringMatching(/ERROR upstream_error: connect ECONNREFUSED provider=vllm$/), 'a plain line from a crash']);
    expect(f.getSnapshot().lines[2].tone).toBe('bad');
    fs.appendFileSync(file, '"line"}\n');
    tick();
    expect(texts().at(-1)).toMatch(/half=line/);
  });

  it('starts within a big file at a line boundary', () => {
    fs.writeFileSync(file, Array.from({ length: 2000 }, (_, i) => log(`e${i}`)).join(''));
    open({ tailBytes: 1000 });
    tick();
    const shown = texts();
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(20);
    expect(shown.at(-1)).toMatch(/ e1999$/);
    for (const t of shown) expect(t).toMatch(/^\d\d:\d\d:\d\d INFO  e\d+$/);
  });

  it('follows a rotation: the old file to its end, then the new one from its start', () => {
    fs.writeFileSync(file, log('before'));
    open();
    tick();
    fs.appendFileSync(file, log('last words of the old file'));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, log('first of the new file'));
    tick();
    expect(texts().map((t) => t.replace(/^\S+ INFO  /, ''))).toEqual(['before', 'last words of the old file', 'first of the new file']);
    expect(f.getSnapshot().note).toMatch(/replaced \(rotated\)/);
    fs.appendFileSync(file, log('second of the new file'));
    fs.appendFileSync(`${file}.1`, log('written to the old name: not ours any more'));
    tick();
    expect(texts().at(-1)).toMatch(/second of the new file$/);
    expect(texts().join('\n')).not.toContain('not ours');
  });

  it('waits for a deleted file and reads it from its start when it comes back', () => {
    fs.writeFileSync(file, log('one'));
    open();
    tick();
    fs.appendFileSync(file, log('two, just before the delete'));
    fs.rmSync(file);
    tick();
    expect(texts().at(-1)).toMatch(/two, just before the delete$/);
    expect(f.getSnapshot().note).toMatch(/was deleted: waiting for it to come back/);
    tick();
    expect(f.getSnapshot().lines).toHaveLength(2);
    fs.writeFileSync(file, log('three, in the new file'));
    tick();
    expect(texts().at(-1)).toMatch(/three, in the new file$/);
    expect(f.getSnapshot().note).toMatch(/is back/);
  });

  it('waits for a file that does not exist yet', () => {
    open({ missingNote: 'no log yet' });
    tick();
    expect(f.getSnapshot()).toMatchObject({ lines: [], note: 'no log yet' });
    fs.writeFileSync(file, log('hello'));
    tick();
    expect(texts()).toEqual([expect.stringMatching(/hello$/)]);
  });

  it('reads a truncated file again from its start', () => {
    fs.writeFileSync(file, log('a') + log('b') + log('c'));
    open();
    tick();
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, log('after truncation'));
    tick();
    expect(texts().at(-1)).toMatch(/after truncation$/);
    expect(f.getSnapshot().note).toMatch(/truncated/);
  });

  it('skips a backlog too large to read, and says so', () => {
    fs.writeFileSync(file, '');
    open({ tailBytes: 2000, maxBacklogBytes: 100_000 });
    tick();
    fs.appendFileSync(file, Array.from({ length: 10_000 }, (_, i) => log(`burst ${i}`)).join(''));
    tick();
    expect(f.getSnapshot().note).toMatch(/^skipped \d+ KiB/);
    expect(texts().at(-1)).toMatch(/burst 9999$/);
    expect(f.getSnapshot().lines.length).toBeLessThan(100);
  });

  it('cuts an overlong line and removes escape sequences from every field', () => {
    fs.writeFileSync(file, log('evil', { model: 'm\x1b]52;c;cGF5bG9hZA==\x07x', note: '\x1b[2J\u202eabc' }) + 'z'.repeat(200_000) + '\n');
    open({ limits: { maxLines: 100, maxChars: 100_000, lineChars: 300 } });
    tick();
    const [evil, long] = texts();
    expect(evil).toMatch(/evil model=m\uFFFDx note=\uFFFDabc$/);
    expect(long.length).toBeLessThanOrEqual(300);
    for (const t of texts()) expect(t).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  });
});
