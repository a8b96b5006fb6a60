// What a following view draws, with chosen lines: the bottom while following, the same lines
// while scrolled back as new ones arrive and old ones drop out, long lines wrapped so they can
// be read whole, the search taken literally, and the colours of journal and gateway-log lines.
import { describe, expect, it } from 'vitest';
import { FOLLOWING, filterLines, followWindow, moveFollow } from '../../src/tui/presentation/followWindow.js';
import { gatewayLogLine, journalLine, journalTone } from '../../src/tui/presentation/logLines.js';
import { parseJournalEntry } from '../../src/system/journal.js';
import type { FollowLine } from '../../src/tui/data/lineFollower.js';

const lines = (from: number, to: number): FollowLine[] =>
  Array.from({ length: to - from }, (_, i) => ({ seq: from + i, text: `line ${from + i}`, tone: null }));

describe('followWindow', () => {
  it('shows the newest lines that fit while following, and only those', () => {
    const w = followWindow(lines(0, 10_000), FOLLOWING, 80, 5);
    expect(w.rows.map((r) => r.text)).toEqual(['line 9995', 'line 9996', 'line 9997', 'line 9998', 'line 9999']);
    expect([w.first, w.last]).toEqual([9995, 9999]);
  });

  it('wraps a long line so it can be read whole', () => {
    const long: FollowLine = { seq: 3, text: `Traceback: ${'word '.repeat(30)}end`, tone: 'bad' };
    const w = followWindow([...lines(0, 3), long], FOLLOWING, 40, 6);
    expect(w.rows.length).toBe(6);
    expect(w.rows.at(-1)!.text).toMatch(/end$/);
    expect(w.rows.filter((r) => r.tone === 'bad').length).toBeGreaterThan(2);
    for (const r of w.rows) expect(r.text.length).toBeLessThanOrEqual(40);
  });

  it('keeps a scrolled-back view on the same lines while new ones arrive and old ones drop out', () => {
    const before = lines(0, 100);
    const up = moveFollow(before, FOLLOWING, followWindow(before, FOLLOWING, 80, 10), 'pageUp');
    expect(up.following).toBe(false);
    const shown = followWindow(before, up, 80, 10).rows.map((r) => r.text);
    const after = lines(50, 400); // 300 more arrived, the first 50 dropped out of the ring
    expect(followWindow(after, up, 80, 10).rows.map((r) => r.text)).toEqual(shown);
    // moving down to the newest line follows again
    let pos = up;
    for (let i = 0; i < 400 && !pos.following; i++) pos = moveFollow(after, pos, followWindow(after, pos, 80, 10), 'down');
    expect(pos.following).toBe(true);
    expect(moveFollow(after, up, followWindow(after, up, 80, 10), 'bottom')).toEqual(FOLLOWING);
    expect(moveFollow(after, FOLLOWING, followWindow(after, FOLLOWING, 80, 10), 'top')).toEqual({ following: false, top: 50 });
  });

  it('searches literally and case-insensitively; a search that matches nothing is empty', () => {
    const ls: FollowLine[] = ['GET /v1/models 200', 'error: rate (429) hit', 'a.b*c literal', 'abbbc'].map((text, seq) => ({ seq, text, tone: null }));
    expect(filterLines(ls, '(429)').map((l) => l.seq)).toEqual([1]);
    expect(filterLines(ls, 'b*c').map((l) => l.seq)).toEqual([2]);
    expect(filterLines(ls, 'ERROR').map((l) => l.seq)).toEqual([1]);
    expect(filterLines(ls, 'nothing like this')).toEqual([]);
    expect(followWindow([], FOLLOWING, 80, 5).rows).toEqual([]);
    expect(filterLines(ls, '')).toBe(ls);
  });
});

describe('log lines', () => {
  it('colours journal entries by PRIORITY, and stdout entries by their level word', () => {
    expect([0, 1, 2, 3].map((p) => journalTone(p, 'x'))).toEqual(['bad', 'bad', 'bad', 'bad']);
    expect(journalTone(4, 'x')).toBe('warn');
    expect(journalTone(7, 'x')).toBe('dim');
    expect(journalTone(6, 'INFO: 127.0.0.1 GET /health 200')).toBeNull();
    expect(journalTone(6, 'ERROR 12-01 10:00:00 engine died')).toBe('bad');
    expect(journalTone(6, 'WARNING: low memory')).toBe('warn');
    expect(journalTone(null, '[warn] slow')).toBe('warn');
    expect(journalTone(6, 'no errors today')).toBeNull();
  });

  it('reads journalctl -o json: string PRIORITY, µs time, bytes, several values, null', () => {
    const e = parseJournalEntry(
      JSON.stringify({ __REALTIME_TIMESTAMP: '1764583200123456', PRIORITY: '3', SYSLOG_IDENTIFIER: ['vllm', 'other'], _PID: '42', MESSAGE: [104, 105, 0x1b, 0xff] }),
    )!;
    expect(e).toEqual({ timeMs: 1764583200123, priority: 3, identifier: 'vllm', pid: '42', message: 'hi\x1b\uFFFD' });
    expect(parseJournalEntry(JSON.stringify({ MESSAGE: null, PRIORITY: '9' }))).toMatchObject({ message: null, priority: null, timeMs: null });
    expect(parseJournalEntry('-- No entries --')).toBeNull();
    expect(parseJournalEntry('[1,2]')).toBeNull();
    expect(journalLine({ timeMs: null, priority: 6, identifier: null, pid: null, message: 'm' }, 'u.service').text).toBe('– u.service: m');
  });

  it('renders gateway log lines as time, level, event, message and fields', () => {
    const l = gatewayLogLine(JSON.stringify({ ts: '2026-12-01T10:00:00.000Z', level: 'error', event: 'upstream', msg: 'boom', status: 502, meta: { a: 1 } }));
    expect(l.text).toMatch(/^\d\d:\d\d:\d\d ERROR upstream: boom status=502 meta=\{"a":1\}$/);
    expect(l.tone).toBe('bad');
    expect(gatewayLogLine('Error: listen EADDRINUSE').tone).toBe('bad');
    expect(gatewayLogLine('plain').tone).toBeNull();
    expect(gatewayLogLine('42')).toEqual({ text: '42', tone: null });
  });
});
