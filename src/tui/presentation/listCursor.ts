// The one cursor of every list on screen (services, budgets, requests, the full-screen
// views), as pure functions: a position moved by j/k, pages, top and bottom, clamped to the
// list, and the window of rows that shows it. A `select` list has a selected row that the
// window keeps in view; a `scroll` list's position is the first row shown, and it stops where
// the last page is full.
export type ListKind = 'select' | 'scroll';
export type Motion = 'down' | 'up' | 'pageDown' | 'pageUp' | 'top' | 'bottom';

export interface ListShape {
  kind: ListKind;
  count: number;
  /** rows the list has room for */
  room: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

function last(l: ListShape): number {
  return l.kind === 'select' ? Math.max(0, l.count - 1) : Math.max(0, l.count - Math.max(1, l.room));
}

export function clampPosition(position: number, l: ListShape): number {
  return clamp(position, 0, last(l));
}

export function movePosition(position: number, motion: Motion, l: ListShape): number {
  const page = Math.max(1, l.room - 1);
  const from = clampPosition(position, l);
  switch (motion) {
    case 'down':
      return clampPosition(from + 1, l);
    case 'up':
      return clampPosition(from - 1, l);
    case 'pageDown':
      return clampPosition(from + page, l);
    case 'pageUp':
      return clampPosition(from - page, l);
    case 'top':
      return 0;
    case 'bottom':
      return last(l);
  }
}

export interface ListWindow {
  /** first row shown */
  start: number;
  /** one past the last row shown */
  end: number;
  /** the selected row, for a `select` list with rows */
  selected: number | null;
}

export function listWindow(position: number, l: ListShape): ListWindow {
  const room = Math.max(0, l.room);
  const p = clampPosition(position, l);
  if (l.kind === 'scroll') {
    const start = clamp(p, 0, Math.max(0, l.count - room));
    return { start, end: Math.min(l.count, start + room), selected: null };
  }
  // the selection stays on the last row shown once it has gone past the first page
  const start = clamp(p - room + 1, 0, Math.max(0, l.count - room));
  return { start, end: Math.min(l.count, start + room), selected: l.count > 0 ? p : null };
}

/** The rows a panel draws for its cursor, with the window it used. */
export function visibleRows<T>(rows: readonly T[], position: number, kind: ListKind, room: number): { shown: readonly T[]; window: ListWindow } {
  const window = listWindow(position, { kind, count: rows.length, room });
  return { shown: rows.slice(window.start, window.end), window };
}
