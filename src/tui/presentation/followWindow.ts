// What a following view draws: only the lines that fit on screen, wrapped to its width, taken
// from the bottom while it follows, or from a line the reader scrolled back to. The work is the
// lines shown, never the thousands held. Positions are line sequence numbers, so a view scrolled
// back stays on the same lines while new ones arrive and old ones drop out of the ring.
import type { FollowLine } from '../data/lineFollower.js';
import type { ViewLine } from '../panels/TextView.js';
import type { Motion } from './listCursor.js';
import { wordWrap } from './format.js';
import { normalizeFilter } from '../../usage/search.js';

export interface FollowPosition {
  /** pinned to the newest line */
  following: boolean;
  /** while not following: the sequence number of the first line shown */
  top: number;
}

export const FOLLOWING: FollowPosition = { following: true, top: 0 };

export interface FollowWindow {
  rows: ViewLine[];
  /** index (in the lines given) of the first and last line shown; -1 when none */
  first: number;
  last: number;
}

/** Lines whose text holds `query`, case-insensitive and literal (no pattern syntax), as the lists' filter. */
export function filterLines(lines: readonly FollowLine[], query: string): readonly FollowLine[] {
  const q = normalizeFilter(query);
  if (q === '') return lines;
  return lines.filter((l) => l.text.toLowerCase().includes(q));
}

/** Index of the first line whose sequence number is at least `seq`. */
export function indexOfSeq(lines: readonly FollowLine[], seq: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function wrapped(l: FollowLine, width: number, height: number): ViewLine[] {
  const parts = l.text === '' ? [''] : wordWrap(l.text, Math.max(1, width), height);
  return parts.map((text, i) => ({ text: i === 0 ? text : `  ${text}`, tone: l.tone }));
}

function fromBottom(lines: readonly FollowLine[], width: number, height: number): FollowWindow {
  const rows: ViewLine[] = [];
  let first = lines.length;
  while (first > 0 && rows.length < height) {
    first--;
    rows.unshift(...wrapped(lines[first], width - 2, height));
  }
  return { rows: rows.slice(-height), first: lines.length ? first : -1, last: lines.length - 1 };
}

export function followWindow(lines: readonly FollowLine[], pos: FollowPosition, width: number, height: number): FollowWindow {
  if (pos.following || lines.length === 0) return fromBottom(lines, width, height);
  const start = Math.min(indexOfSeq(lines, pos.top), lines.length - 1);
  const rows: ViewLine[] = [];
  let i = start;
  for (; i < lines.length && rows.length < height; i++) rows.push(...wrapped(lines[i], width - 2, height));
  // the end came before the screen was full: the last page stays full
  if (rows.length < height) return fromBottom(lines, width, height);
  return { rows: rows.slice(0, height), first: start, last: i - 1 };
}

/**
 * Where a motion takes the view from `pos` (`shown`: the last window drawn, for the page size
 * and where a following view starts); reaching the newest line follows again.
 */
export function moveFollow(lines: readonly FollowLine[], pos: FollowPosition, shown: FollowWindow, motion: Motion): FollowPosition {
  if (lines.length === 0 || motion === 'bottom') return FOLLOWING;
  const span = Math.max(0, shown.last - shown.first);
  if (motion === 'top') return span + 1 >= lines.length ? FOLLOWING : { following: false, top: lines[0].seq };
  const first = pos.following ? Math.max(0, shown.first) : Math.min(indexOfSeq(lines, pos.top), lines.length - 1);
  const page = Math.max(1, span);
  const step = motion === 'down' ? 1 : motion === 'up' ? -1 : motion === 'pageDown' ? page : -page;
  if (step > 0 && (pos.following || first + span + step >= lines.length)) return FOLLOWING;
  return { following: false, top: lines[Math.max(0, Math.min(lines.length - 1, first + step))].seq };
}
