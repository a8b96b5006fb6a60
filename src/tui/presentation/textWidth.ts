// Terminal columns of a line, exactly as string-width counts them, without its per-character
// work for the lines the dashboard draws every frame. string-width has a shortcut only for pure
// printable ASCII; any other character (a bar, a sparkline, `·`, `–`, `°C`) sends the whole line
// through grapheme segmentation and an emoji test per character, and Ink measures every changed
// line twice a frame. Lines of ASCII, colour codes and the one-column characters below are
// counted directly; everything else goes to string-width. The console's bundle gives this to
// Ink in place of string-width (scripts/bundle-console.mjs).
import stringWidth, { type Options } from 'string-width';

/** Characters the panels draw that take one column alone and join no neighbour into a wider
 *  cluster (test/tui/textWidth.test.ts holds string-width to that for each). */
export const ONE_COLUMN = '·…–—×◌█→●○─←✗▸░▇▆▅▄▃▂▁↻↓↑µ°✓';
// all one UTF-16 unit each, so a matching line is as wide as it is long
const NARROW_LINE = new RegExp(`^[\\x20-\\x7e${ONE_COLUMN}]*$`);
// colour and style codes (SGR) as chalk writes them; any other escape is left for string-width
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[(?:\d{1,4}(?:;\d{1,4})*)?m/g;

/** Columns `text` takes on a terminal (string-width's count, ambiguous characters narrow). */
export function terminalWidth(text: string): number {
  if (NARROW_LINE.test(text)) return text.length;
  if (text.includes('\x1b')) {
    const plain = text.replace(SGR, '');
    if (NARROW_LINE.test(plain)) return plain.length;
  }
  return stringWidth(text);
}

/** string-width's signature, for code that imports string-width (Ink in the bundle). */
export default function width(text: string, options?: Options): number {
  return options === undefined && typeof text === 'string' ? terminalWidth(text) : stringWidth(text, options);
}
