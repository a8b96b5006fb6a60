// A following view while it is open: its source started when it opens (one journalctl child,
// or the log file), redrawn as lines arrive, stopped when it closes or shows something else;
// the reader's position (following, or scrolled back to a line) and search text; and what to
// draw: the lines that fit (followWindow.ts) and a summary for the view's frame.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useSources } from '../contexts/SourcesContext.js';
import { followKey, type Follower, type FollowState, type FollowTarget } from '../data/lineFollower.js';
import { FOLLOWING, filterLines, followWindow, moveFollow, type FollowPosition, type FollowWindow } from '../presentation/followWindow.js';
import type { Motion } from '../presentation/listCursor.js';
import type { ViewLine } from '../panels/TextView.js';
import { useLatestState } from './useLatestState.js';


/** The state of the open view's source, or null while none is open (or it is still loading). */
function useFollower(target: FollowTarget | null): FollowState | null {
  const { actions, frame } = useSources();
  const [follower, setFollower] = useState<Follower | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const key = target ? followKey(target) : null;
  const targetRef = useRef(target);
  targetRef.current = target;
  useEffect(() => {
    const t = targetRef.current;
    if (!key || !t) return;
    let live = true;
    let started: Follower | null = null;
    let unfollow = () => {};
    actions.follow(t).then(
      (f) => {
        if (!live) return void f.stop();
        started = f;
        unfollow = frame.follow([f]);
        f.start();
        setFollower(f);
      },
      (e: Error) => live && setFailure(e.message),
    );
    return () => {
      live = false;
      unfollow();
      void started?.stop();
      setFollower(null);
      setFailure(null);
    };
  }, [key, actions, frame]);
  if (failure !== null) return { lines: [], total: 0, status: 'failed', note: failure };
  return follower?.getSnapshot() ?? null;
}

export interface FollowView {
  rows: ViewLine[];
  summary: string;
  move(motion: Motion): void;
  position: FollowPosition;
}

export function useFollowView(target: FollowTarget | null, query: string, width: number, height: number): FollowView {
  const state = useFollower(target);
  const position = useLatestState<FollowPosition>(FOLLOWING);
  const key = target ? followKey(target) : null;
  // another source, or another search: back to following its newest lines
  useEffect(() => position.set(FOLLOWING), [key, query, position.set]);
  const all = state?.lines ?? [];
  const lines = useMemo(() => filterLines(all, query), [all, query]);
  const notes: ViewLine[] = [];
  if (state?.note) notes.push({ text: state.note, tone: state.status === 'failed' ? 'bad' : 'warn' });
  if (!state || (lines.length === 0 && state.status === 'starting')) notes.push({ text: 'reading…', tone: 'dim' });
  else if (lines.length === 0) notes.push({ text: query ? `no line holds "${query}"` : 'no lines yet: new ones show as they come', tone: 'dim' });
  const room = Math.max(1, height - notes.length);
  const shown = useMemo(() => followWindow(lines, position.value, width, room), [lines, position.value, width, room]);
  const shownRef = useRef<FollowWindow>(shown);
  shownRef.current = shown;
  const linesRef = useRef(lines);
  linesRef.current = lines;
  const rows = notes.length ? [...notes, ...shown.rows] : shown.rows;

  const count = query ? `filter: ${query} · ${lines.length.toLocaleString('en-US')} of ${all.length.toLocaleString('en-US')}` : `${all.length.toLocaleString('en-US')} lines`;
  const where = position.value.following || shown.first < 0 ? 'following' : `at ${shown.first + 1}-${shown.last + 1} · G follows`;
  return {
    rows,
    summary: `${where} · ${count}`,
    position: position.value,
    move: (motion) => position.set((p) => moveFollow(linesRef.current, p, shownRef.current, motion)),
  };
}
