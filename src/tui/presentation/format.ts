// Text helpers for the panels: fixed-width cells, units, and `–` wherever a value is unknown,
// so a missing reading is never shown as 0. Widths are terminal columns (a CJK character or an
// emoji takes two), never string lengths, so columns stay aligned whatever the text.
import stringWidth from 'string-width';
import { terminalWidth } from './textWidth.js';

export const NA = '–';

const NARROW = /^[\x20-\x7e]*$/;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// string-width segments graphemes and tests each against the emoji set: bars and sparklines,
// redrawn every frame with the same few strings, are measured once and looked up after.
const WIDE_MEMO_BOUND = 2048;
const wideWidths = new Map<string, number>();

/** Columns the text takes on a terminal. */
export function displayWidth(text: string): number {
  if (NARROW.test(text)) return text.length;
  let w = wideWidths.get(text);
  if (w === undefined) {
    if (wideWidths.size >= WIDE_MEMO_BOUND) wideWidths.clear();
    w = terminalWidth(text);
    wideWidths.set(text, w);
  }
  return w;
}

/** The longest start of `text` that takes at most `width` columns, and the columns it takes. */
function head(text: string, width: number): { text: string; width: number } {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) break;
    out += segment;
    used += w;
  }
  return { text: out, width: used };
}

/** At most `width` columns of `text`, cut with `…` when it was longer. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  if (NARROW.test(text)) return width === 1 ? '…' : text.slice(0, width - 1) + '…';
  return head(text, width - 1).text + '…';
}

/** Up to `maxLines` lines of at most `width` columns, broken at spaces where possible; the last
 *  line holds the rest (the panel cuts it). */
export function wordWrap(text: string, width: number, maxLines: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest && out.length < maxLines) {
    if (displayWidth(rest) <= width || out.length === maxLines - 1) {
      out.push(rest);
      break;
    }
    const fits = head(rest, Math.max(1, width)).text;
    let at = rest[fits.length] === ' ' ? fits.length : fits.lastIndexOf(' ');
    if (at <= 0) at = fits.length || [...rest][0].length;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).trim();
  }
  return out;
}

/** Pad or cut to exactly `width` columns (panels draw tables as pre-sized strings). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const cutText = cut(text, width);
  const pad = ' '.repeat(Math.max(0, width - displayWidth(cutText)));
  return align === 'left' ? cutText + pad : pad + cutText;
}

export function num(value: number | null | undefined, digits = 0, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NA;
  return value.toFixed(digits) + unit;
}

export function pct(value: number | null | undefined, digits = 0): string {
  return num(value, digits, '%');
}

const BYTE_UNITS = ['B', 'K', 'M', 'G', 'T', 'P'];

/** 1536 -> "1.5K"; binary units, short suffixes for narrow columns. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NA;
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)}${BYTE_UNITS[i]}`;
}

export function mib(value: number | null | undefined): string {
  return value === null || value === undefined ? NA : bytes(value * 1024 * 1024);
}

/** Seconds as "45s", "12m", "3h05m", "2d4h". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return NA;
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** A rough figure for forecasts: "~40m", "~2.5h", "~3d". */
export function roughDuration(seconds: number): string {
  if (seconds < 90) return `~${Math.max(1, Math.round(seconds))}s`;
  if (seconds < 90 * 60) return `~${Math.round(seconds / 60)}m`;
  if (seconds < 48 * 3600) {
    const h = seconds / 3600;
    return `~${h < 10 ? h.toFixed(1).replace(/\.0$/, '') : Math.round(h)}h`;
  }
  return `~${Math.round(seconds / 86400)}d`;
}

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NA;
  if (value === 0) return '$0';
  if (Math.abs(value) < 0.0001) return value > 0 ? '<$0.0001' : `-$${Math.abs(value).toExponential(0)}`;
  if (Math.abs(value) < 0.01) return `$${value.toFixed(4)}`;
  if (Math.abs(value) < 100) return `$${value.toFixed(2)}`;
  return `$${Math.round(value)}`;
}

/** Local wall-clock time HH:MM:SS of an ISO timestamp. */
export function clock(iso: string | number | null): string {
  if (iso === null) return NA;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return NA;
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** The last `width` values of a 0..max series as block characters. */
export function sparkline(values: readonly number[], width: number, max = 100): string {
  if (width <= 0) return '';
  const tail = values.slice(-width);
  let out = '';
  for (const v of tail) {
    const f = Math.min(1, Math.max(0, v / max));
    out += SPARKS[Math.min(SPARKS.length - 1, Math.round(f * (SPARKS.length - 1)))];
  }
  return out.padStart(width, ' ');
}

/** A horizontal bar of `width` cells filled to `fraction` (clamped to 0..1). */
export function bar(fraction: number, width: number): string {
  if (width <= 0) return '';
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}
