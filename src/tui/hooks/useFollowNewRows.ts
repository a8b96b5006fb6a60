// Requests follow new rows while the selection is on the newest; once moved down, the
// selection stays on the same row as new ones arrive on top (the position shifts with them).
import { useEffect, useRef } from 'react';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { ListId, Positions } from './useListCursors.js';

export function useFollowNewRows(rows: readonly StoredUsageRow[], cursors: { current(): Positions; shift(list: ListId, by: number): void }): void {
  const topId = useRef<number | null>(null);
  useEffect(() => {
    const newest = rows[0]?.id ?? null;
    if (topId.current !== null && newest !== null && newest !== topId.current && cursors.current().requests > 0) {
      const added = rows.findIndex((r) => r.id === topId.current);
      if (added > 0) cursors.shift('requests', added);
    }
    topId.current = newest;
  }, [rows, cursors]);
}
