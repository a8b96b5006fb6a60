// The full-screen views over the panels and the lines each one shows: help and routing drawn
// from live data, a followed log (journal, gateway log: its lines come from useFollowView, which
// draws only those that fit), a detail built from the selected row
// as the console saw it (and again once what it reads afterwards arrives). Every line is wrapped
// to the view's width, so a long message is read whole, never cut at a column.
import type { ConfigProblem, ResolvedConfig } from '../../config/load.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { ViewLine } from '../panels/TextView.js';
import type { Detail, DetailExtra } from './detail.js';
import { normalizeFilter } from '../../usage/search.js';
import { followKey, type FollowTarget } from '../data/lineFollower.js';
import { helpLines, routingLines, trafficByTarget, wrapLines } from './views.js';

export type View =
  | { kind: 'help' }
  | { kind: 'routing' }
  | { kind: 'follow'; title: string; target: FollowTarget }
  | { kind: 'detail'; build: (extra?: DetailExtra) => Detail; extra?: DetailExtra };

export const ROUTING_WINDOW_S = 300;

export function viewTitle(view: View): string {
  if (view.kind === 'help') return 'Help';
  if (view.kind === 'routing') return 'Routing and config';
  return view.kind === 'follow' ? view.title : view.build(view.extra).title;
}

/** Which log a view follows (null: it follows none), so asking for the one already open keeps it. */
export function followKeyOf(view: View | null): string | null {
  return view?.kind === 'follow' ? followKey(view.target) : null;
}

export interface ViewData {
  config: ResolvedConfig | undefined;
  /** the last config that loaded without errors, while the current one has them */
  lastGood: ResolvedConfig | undefined;
  problems: readonly ConfigProblem[];
  /** the newest usage rows held, newest first (routing's live traffic) */
  rows: readonly StoredUsageRow[];
  nowMs: number;
  width: number;
  /** the view's `/` search: only lines holding this text, literally */
  search: string;
}

export function viewLines(view: View | null, d: ViewData): ViewLine[] {
  if (!view) return [];
  let lines: ViewLine[];
  if (view.kind === 'help') lines = helpLines();
  else if (view.kind === 'routing') {
    const traffic = trafficByTarget(d.rows, d.nowMs - ROUTING_WINDOW_S * 1000);
    lines = routingLines(d.config ?? d.lastGood, d.problems, traffic, ROUTING_WINDOW_S, d.config === undefined && d.lastGood !== undefined);
  } else if (view.kind === 'detail') lines = view.build(view.extra).lines;
  else return []; // a followed log: useFollowView draws only the lines that fit
  const needle = normalizeFilter(d.search);
  if (needle !== '') lines = lines.filter((l) => l.text.toLowerCase().includes(needle));
  return wrapLines(lines, d.width - 1);
}
