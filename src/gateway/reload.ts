// Config hot reload: chokidar on the config dir, debounced so an editor's write-rename-chmod
// burst reloads once. The caller decides what a valid or invalid load means; every config it
// takes (at start and on each reload) rewrites runtime/budget_config.json.
import { watch, type FSWatcher } from 'chokidar';
import { writeBudgetConfigJson } from '../config/export.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from './log.js';

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

/** runtime/budget_config.json for this config; a read-only runtime dir loses the export, not the budgets. */
export function exportBudgetConfig(config: ResolvedConfig, log: Logger): void {
  try {
    writeBudgetConfigJson(config);
  } catch (err) {
    log.warn('budget_config_export_failed', { file: config.paths.budgetConfigJson, error: String(err) });
  }
}
