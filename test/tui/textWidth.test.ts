// The console's width count must be string-width's, whatever the line: Ink in the bundle lays
// out and cuts every line by it (src/tui/presentation/textWidth.ts).
import fc from 'fast-check';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import width, { ONE_COLUMN, terminalWidth } from '../../src/tui/presentation/textWidth.js';

// pieces a line may hold: ASCII, the one-column set, wide and combining characters, emoji,
// colour codes as chalk writes them, and escapes that are not colour codes
const PIECES = [
  ...'az Z~09 ',
  ...ONE_COLUMN,
  '日', '本', '😀', '👍🏽', 'e\u0301', '\u200b', '\u00ad', '\ufe0f', '©', '©\ufe0f', '▶', '\t', '\u009b', '\u00a0',
  '\x1b[31m', '\x1b[39m', '\x1b[2m', '\x1b[22m', '\x1b[0;1m', '\x1b[38;5;214m', '\x1b[m', '\x1b[12345m', '\x1b]8;;http://x\x07', '\x1b[2K', '\x1b',
];

describe('terminalWidth', () => {
  it('counts each one-column character as string-width does, alone and between neighbours', () => {
    for (const ch of ONE_COLUMN) {
      expect([terminalWidth(ch), terminalWidth(`a${ch}b`), terminalWidth(ch + ch)]).toEqual([1, 3, 2]);
      expect([stringWidth(ch), stringWidth(`a${ch}b`), stringWidth(ch + ch)]).toEqual([1, 3, 2]);
    }
  });

  it('gives string-width’s count for any line made of those pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), (pieces) => {
        const line = pieces.join('');
        expect(terminalWidth(line)).toBe(stringWidth(line));
      }),
      { numRuns: 3000 },
    );
  });

  it('passes options and odd input on to string-width', () => {
    expect(width('─°', { ambiguousIsNarrow: false })).toBe(stringWidth('─°', { ambiguousIsNarrow: false }));
    expect(width('\x1b[31mab', { countAnsiEscapeCodes: true })).toBe(stringWidth('\x1b[31mab', { countAnsiEscapeCodes: true }));
    expect(width(undefined as unknown as string)).toBe(0);
  });
});
