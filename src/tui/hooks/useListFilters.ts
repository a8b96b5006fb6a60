// The `/` filter of every list (and the search of the open view), and the prompt that edits
// one of them. While the prompt is open the key mode is `input` (keys/bindings.ts): each key
// edits the filter of the list it was opened on, live; Enter keeps it, Esc drops it. Other
// views can take a prompt the same way: open(list), then edit(command) for each input key.
import { useMemo, useRef } from 'react';
import type { Command } from '../keys/bindings.js';
import { editInput } from '../presentation/textInput.js';
import type { ListId } from './useListCursors.js';
import { useLatestState } from './useLatestState.js';

export type Filters = Readonly<Record<ListId, string>>;

const NONE: Filters = { services: '', budgets: '', requests: '', view: '' };

/** `onChange` runs after each change of a list's filter (a search to start, a cursor to reset). */
export function useListFilters(onChange: (list: ListId, text: string) => void) {
  const filters = useLatestState<Filters>(NONE);
  const prompt = useLatestState<ListId | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  const { get, set } = filters;
  const { get: editingNow, set: setEditing } = prompt;
  const api = useMemo(() => {
    const put = (list: ListId, text: string) => {
      if (get()[list] === text) return;
      set((all) => ({ ...all, [list]: text }));
      changed.current(list, text);
    };
    return {
      /** opens the prompt on a list, holding that list's filter as it is */
      open: (list: ListId) => setEditing(list),
      isEditing: () => editingNow() !== null,
      /** one key of the input mode */
      edit: (cmd: Command) => {
        const list = editingNow();
        if (!list) return;
        if (cmd.type === 'inputAccept') setEditing(null);
        else if (cmd.type === 'inputCancel') {
          setEditing(null);
          put(list, '');
        } else put(list, editInput(get()[list], cmd));
      },
      clear: (list: ListId) => put(list, ''),
      current: get,
    };
  }, [get, set, editingNow, setEditing]);
  const values = filters.value;
  const editing = prompt.value;
  return useMemo(() => ({ ...api, values, editing }), [api, values, editing]);
}
