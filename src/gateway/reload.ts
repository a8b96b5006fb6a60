// Config hot reload (SPEC §5): chokidar on the config dir, debounced so an editor's
// write-rename-chmod burst reloads once. The caller decides what a valid or invalid load means.
import { watch, type FSWatcher } from 'chokidar';

export const RELOAD_DEBOUNCE_MS = 200;

export interface ConfigWatcher {
  /** resolves once the initial scan is done: edits after this are seen */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchConfigDir(dir: string, onChange: () => void, onError: (err: Error) => void): ConfigWatcher {
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dir, {
    ignoreInitial: true,
    depth: 0,
    // Editors' swap and backup files are not config.
    ignored: (p: string) => /(\.swp|\.swx|~|\.tmp)$/.test(p) || /\/\.#/.test(p),
  });
  watcher.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, RELOAD_DEBOUNCE_MS);
  });
  watcher.on('error', (err) => onError(err as Error));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
