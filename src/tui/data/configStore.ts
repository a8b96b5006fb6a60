// The config the dashboard runs on, reloaded when config/ changes (as the gateway does), so
// an invalid config at start opens the dashboard with its errors and a fix shows up live.
import type { FSWatcher } from 'chokidar';
import { loadConfig, type LoadOptions, type LoadResult, type ResolvedConfig } from '../../config/load.js';
import { ValueStore } from '../../system/store.js';

export interface ConfigState extends LoadResult {
  /** bumped on every reload, so consumers can tell a reload from a re-render */
  generation: number;
  /** while the files have errors: the last config that loaded without any (what the gateway keeps running) */
  lastGood?: ResolvedConfig;
}

export class ConfigStore extends ValueStore<ConfigState> {
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: LoadOptions) {
    super({ ...loadConfig(opts), generation: 0 });
  }

  reload(): void {
    const prev = this.getSnapshot();
    const next = loadConfig(this.opts);
    this.set({ ...next, generation: prev.generation + 1, lastGood: next.config ? undefined : (prev.config ?? prev.lastGood) });
  }

  /** Watch the config dir; bursts of events (an editor's save) become one reload. */
  async watch(debounceMs = 300): Promise<void> {
    if (this.watcher) return;
    const { default: chokidar } = await import('chokidar');
    if (this.watcher || this.closed) return;
    const dir = this.getSnapshot().paths.configDir;
    this.watcher = chokidar.watch(dir, { ignoreInitial: true, depth: 0 });
    this.watcher.on('all', () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), debounceMs);
      this.debounce.unref();
    });
    this.watcher.on('error', () => {
      // A watcher error (dir removed) must not take the dashboard down; the last config stays.
    });
    const watcher = this.watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    await this.watcher?.close();
    this.watcher = null;
  }
}
