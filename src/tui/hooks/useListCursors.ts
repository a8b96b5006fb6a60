// The positions of every list's cursor in one place: keys move the focused list, whichever
// it is, through the same motions (listCursor.ts).
import { useCallback, useMemo } from 'react';
import { movePosition, type ListShape, type Motion } from '../presentation/listCursor.js';
import { useLatestState } from './useLatestState.js';

export type ListId = 'services' | 'budgets' | 'requests' | 'view';
export type Positions = Readonly<Record<ListId, number>>;

const START: Positions = { services: 0, budgets: 0, requests: 0, view: 0 };

export function useListCursors() {
  const state = useLatestState<Positions>(START);
  const { set } = state;
  const put = useCallback(
    (list: ListId, next: (p: number) => number) => set((all) => (next(all[list]) === all[list] ? all : { ...all, [list]: next(all[list]) })),
    [set],
  );
  const move = useCallback((list: ListId, motion: Motion, shape: ListShape) => put(list, (p) => movePosition(p, motion, shape)), [put]);
  /** rows were added above the position (new requests on top): keep showing the same rows */
  const shift = useCallback((list: ListId, by: number) => put(list, (p) => p + by), [put]);
  const reset = useCallback((list: ListId) => put(list, () => 0), [put]);
  const positions = state.value;
  return useMemo(() => ({ positions, current: state.get, move, shift, reset }), [positions, state.get, move, shift, reset]);
}
