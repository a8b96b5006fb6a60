// The console's sanitiser and display-width cells: every escape sequence and control a hostile
// log line, process name or HTTP answer could carry is gone (with a visible mark), and columns
// are counted in terminal cells, so CJK and emoji keep a table aligned.
import { describe, expect, it } from 'vitest';
import { REMOVED_MARK as M, cleanData, cleanText } from '../../src/tui/data/cleanText.js';
import { cut, displayWidth, fit, wordWrap } from '../../src/tui/presentation/format.js';
import { HOSTILE_TEXT } from '../helpers/hostileText.js';

/** What may never reach the terminal from outside: C0 (but none survive), DEL, C1, format controls. */
const FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]|(?!\u200d)\p{Cf}/u;

describe('cleanText', () => {
  it('removes every kind of escape sequence, marking where', () => {
    expect(cleanText('a\x1b]0;owned\x07b')).toBe(`a${M}b`); // window title, BEL-terminated
    expect(cleanText('a\x1b]52;c;ZWNobyBwd25lZA==\x07b')).toBe(`a${M}b`); // clipboard write
    expect(cleanText('a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b')).toBe(`a${M}link${M}b`); // ST-terminated
    expect(cleanText('\x1b[31mred\x1b[0m')).toBe(`${M}red${M}`);
    expect(cleanText('x\x1b[?1049lx')).toBe(`x${M}x`); // leaves the alternate screen
    expect(cleanText('a\x1bPq#0;2;0;0;0\x1b\\b')).toBe(`a${M}b`); // DCS (sixel)
    expect(cleanText('a\x1b_apc\x1b\\b\x1b^pm\x1b\\c\x1bXsos\x1b\\d')).toBe(`a${M}b${M}c${M}d`);
    expect(cleanText('a\x1bcb\x1b(Bc')).toBe(`a${M}b${M}c`); // RIS, charset
    expect(cleanText('gpt\u009b31m-4')).toBe(`gpt${M}-4`); // C1 CSI
    expect(cleanText('a\u009d0;t\u009cb')).toBe(`a${M}b`); // C1 OSC … ST
    expect(cleanText('python3\x1b]0;evil')).toBe(`python3${M}`); // never terminated: to the end
  });

  it('removes C0, DEL, C1, bidi and other format controls; tabs and line breaks become spaces', () => {
    expect(cleanText('a\x00b\x07c\x7fd\x85e')).toBe(`a${M}b${M}c${M}d${M}e`);
    expect(cleanText('evil\u202egnp.exe')).toBe(`evil${M}gnp.exe`);
    expect(cleanText('a\u2066b\u2069c\u200bd\ufeffe\u00adf')).toBe(`a${M}b${M}c${M}d${M}e${M}f`);
    expect(cleanText('a\tb\nc\r\nd')).toBe('a b c  d');
    expect(cleanText('a\x00\x01\x02b')).toBe(`a${M}b`); // one mark per removed run
    expect(cleanText('a\ud800b')).toBe(`a${M}b`); // a lone surrogate
  });

  it('leaves clean text alone, emoji sequences included, and keeps identities', () => {
    for (const s of ['plain', 'llama-3.1:8b', '模型名称', '👨‍👩‍👧 family', 'café', '']) expect(cleanText(s)).toBe(s);
    const row = { id: 1, model: 'gpt-4', nested: [{ a: 'x' }] };
    expect(cleanData(row)).toBe(row);
    const dirty = { id: 1, model: 'g\x1b[2Jpt', nested: [{ a: 'x' }] };
    const cleaned = cleanData(dirty);
    expect(cleaned).toEqual({ id: 1, model: `g${M}pt`, nested: [{ a: 'x' }] });
    expect(cleaned.nested).toBe(dirty.nested);
    expect(dirty.model).toBe('g\x1b[2Jpt'); // the source is not mutated
  });

  it('lets no control character of the whole BMP through, alone or inside a sequence', () => {
    for (let cp = 0; cp <= 0xffff; cp++) {
      const ch = String.fromCharCode(cp);
      for (const s of [`a${ch}b`, `\x1b${ch}z`, `\x1b[${ch}z`, `\x1b]${ch}`]) {
        const out = cleanText(s);
        if (FORBIDDEN.test(out)) throw new Error(`U+${cp.toString(16)} in ${JSON.stringify(s)} -> ${JSON.stringify(out)}`);
      }
    }
    for (const s of HOSTILE_TEXT) expect(cleanText(s)).not.toMatch(FORBIDDEN);
  });
});

describe('display width', () => {
  it('counts terminal columns, not string length', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('模型')).toBe(4);
    expect(displayWidth('🚀')).toBe(2);
    expect(displayWidth('👨‍👩‍👧')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
  });

  it('cuts and pads to exact columns, never splitting a character', () => {
    for (const s of ['模型模型模型模型模型模型模型模型模型模型', '🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀', 'a模b🚀c👨‍👩‍👧d', 'plain ascii text here']) {
      for (let w = 1; w <= 30; w++) {
        expect(displayWidth(fit(s, w)), `${s} at ${w}`).toBe(w);
        expect(displayWidth(fit(s, w, 'right'))).toBe(w);
        expect(displayWidth(cut(s, w))).toBeLessThanOrEqual(w);
      }
    }
    expect(fit('模型模型', 5)).toBe('模型…');
    expect(fit('模型模型', 6)).toBe('模型… ');
    expect(fit('abcdef', 4)).toBe('abc…');
  });

  it('wraps by columns', () => {
    const lines = wordWrap('模型 '.repeat(20), 11, 10);
    for (const l of lines.slice(0, -1)) expect(displayWidth(l)).toBeLessThanOrEqual(11);
    expect(lines.join(' ').replace(/\s+/g, ' ').trim()).toBe('模型 '.repeat(20).trim());
    expect(wordWrap('模型模型模型模型模型', 4, 5)).toEqual(['模型', '模型', '模型', '模型', '模型']);
  });
});
