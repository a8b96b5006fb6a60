// The Requests panel's feed: the usage log read incrementally by id (a cheap max(id) poll,
// never a scan per refresh), the gateway's recent traffic figures, the rows of the whole log
// that match the panel's `/` filter (found through indexes, then kept up to date from the new
// rows), and a clear notice when the log is absent (an empty panel that fills once the gateway
// creates it), locked (the last rows stay), or written by a newer ptui.
import fs from 'node:fs';
import { UsageReader } from '../../usage/reader.js';
import { UsageDbMissingError, UsageSchemaTooNewError, type Db } from '../../usage/db.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { BudgetScope } from '../../config/schema.js';
import type { MinuteStats } from '../../usage/reader.js';
import { UsageSearch, byStartDesc as startOrder, normalizeFilter, rowMatches } from '../../usage/search.js';
import type { TrafficStats } from '../gatewayChild/state.js';
import { ValueStore, sameData } from '../../system/store.js';
import { isDue } from '../../system/due.js';

export type UsageDbState = 'absent' | 'open' | 'locked' | 'too-new' | 'error';

/** The rows of the whole log that match the Requests filter. */
export interface RequestFilterState {
  /** the filter as matched (normalizeFilter) */
  text: string;
  /** newest start first, at most `keep` */
  rows: readonly StoredUsageRow[];
  /** matching rows in the log (at least this many when `capped`) */
  matches: number;
  capped: boolean;
  /** rows in the log */
  total: number;
}

export interface UsageFeedState {
  /** newest first, at most `keep` */
  rows: readonly StoredUsageRow[];
  dbState: UsageDbState;
  notice: string | null;
  stats: TrafficStats | null;
  /** null without a filter, or before its first search */
  filter?: RequestFilterState | null;
}

export interface UsageFeedOptions {
  dbPath: string;
  /** how often to look for new rows */
  pollMs: number;
  /** how often to recompute the traffic figures */
  statsMs: number;
  /** error rate and latency percentiles cover this window */
  statsWindowMs?: number;
  /** requests/s covers this shorter window, so the figure moves when traffic does */
  rateWindowMs?: number;
  keep?: number;
  /** how long a query may wait on a lock: short, because it runs on the UI thread */
  busyTimeoutMs?: number;
}

const INITIAL: UsageFeedState = { rows: [], dbState: 'absent', notice: null, stats: null };

function isLockError(e: unknown): boolean {
  const code = (e as { code?: string })?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database is locked/i.test(String((e as Error)?.message));
}

export class UsageFeed extends ValueStore<UsageFeedState> {
  readonly statsWindowMs: number;
  readonly rateWindowMs: number;
  private readonly keep: number;
  private reader: UsageReader | null = null;
  private search: UsageSearch | null = null;
  /** the Requests filter as matched; '' for none */
  private filterText = '';
  private lastId = 0;
  private lastStatsAt = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  /** the too-new check is retried rarely: the file will not change version by itself */
  private nextOpenAt = 0;
  /** the file the reader has open: a log deleted and created again is another file at the same path */
  private openedFile: { dev: number; ino: number } | null = null;

  constructor(private readonly opts: UsageFeedOptions) {
    super(
      INITIAL,
      (a, b) => a.rows === b.rows && a.filter === b.filter && a.dbState === b.dbState && a.notice === b.notice && sameData(a.stats, b.stats),
    );
    this.statsWindowMs = opts.statsWindowMs ?? 60_000;
    this.rateWindowMs = opts.rateWindowMs ?? 10_000;
    this.keep = opts.keep ?? 500;
  }

  start(): void {
    if (this.pollTimer) return;
    this.poll();
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollMs);
    this.pollTimer.unref();
  }

  stop(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.closeReader();
  }

  /** The rows of the whole log matching `text` from now on ('' for all rows again), searched at once. */
  setFilter(text: string): void {
    const next = normalizeFilter(text);
    if (next === this.filterText) return;
    this.filterText = next;
    this.poll();
  }

  /** Requests, errors and cost per minute of one budget scope's target since `sinceMs`, oldest first. */
  series(scope: BudgetScope, target: string, sinceMs: number, nowMs = Date.now()): MinuteStats[] {
    if (!this.reader) throw new Error(this.getSnapshot().notice ?? 'the usage log is not open');
    return this.reader.perMinuteOf(scope, target, sinceMs, nowMs);
  }

  /** The newest row id read so far (0 before any): it changes whenever a request is logged. */
  newestId(): number {
    return this.lastId;
  }

  /** The open read-only connection, for budget figures computed from the same log. */
  db(): Db | null {
    return this.reader?.db ?? null;
  }

  /** One round: open if needed, append new rows, refresh the figures when due. */
  poll(now = Date.now()): void {
    // A connection keeps reading a deleted file; only the path tells that a new one replaced it.
    if (this.reader && !this.isOpenFile()) this.closeReader();
    if (!this.reader && !this.open(now)) return;
    const reader = this.reader!;
    const prev = this.getSnapshot();
    try {
      const maxId = reader.maxId();
      let rows = prev.rows;
      let filter = this.filterText === '' ? null : (prev.filter ?? null);
      if (filter && filter.text !== this.filterText) filter = null;
      if (maxId < this.lastId) {
        // The file was replaced or truncated: start over from its newest rows.
        rows = byStartDesc(reader.latest(this.keep));
        this.lastId = maxId;
        filter = null;
      } else if (maxId > this.lastId) {
        const fresh = reader.rowsAfter(this.lastId, this.keep);
        rows = byStartDesc([...fresh, ...rows]).slice(0, this.keep);
        this.lastId = fresh.length > 0 ? Math.max(...fresh.map((r) => r.id)) : maxId;
        if (filter) filter = this.withFresh(filter, fresh);
      }
      // a new filter searches the whole log once; new rows are matched as they come
      if (this.filterText !== '' && !filter) filter = { text: this.filterText, ...this.search!.search(this.filterText, this.keep) };
      let stats = prev.stats;
      // Once per statsMs, rows or not: with rows flowing every poll brings new ones, and the two
      // window queries read every row of the last minute (12 k at 200 rows/s), the busiest work
      // of a console watching traffic. Figures a poll late are drawn by the same frame anyway.
      if (isDue(this.lastStatsAt, this.opts.statsMs, now)) {
        const recent = reader.count(now - this.rateWindowMs, now);
        stats = { ...reader.stats(now - this.statsWindowMs, now), rps: recent.rps };
        this.lastStatsAt = now;
      }
      this.set({ rows, dbState: 'open', notice: null, stats, filter });
    } catch (e) {
      if (isLockError(e)) {
        this.set({ ...prev, dbState: 'locked', notice: 'usage log locked by another program: showing the last rows read' });
        return;
      }
      // Deleted, corrupt or replaced under us: reopen on the next round.
      this.closeReader();
      this.set({ ...prev, dbState: 'error', notice: `usage log unreadable: ${(e as Error).message}` });
    }
  }

  private withFresh(filter: RequestFilterState, fresh: readonly StoredUsageRow[]): RequestFilterState {
    const found = fresh.filter((r) => rowMatches(r, filter.text));
    const rows = found.length > 0 ? byStartDesc([...found, ...filter.rows]).slice(0, this.keep) : filter.rows;
    return { ...filter, rows, matches: filter.matches + found.length, total: filter.total + fresh.length };
  }

  private open(now: number): boolean {
    if (now < this.nextOpenAt) return false;
    if (!fs.existsSync(this.opts.dbPath)) {
      this.set({ ...this.getSnapshot(), dbState: 'absent', notice: `no usage log yet (the gateway creates ${this.opts.dbPath})` });
      return false;
    }
    try {
      const st = fs.statSync(this.opts.dbPath);
      this.reader = UsageReader.open(this.opts.dbPath, { busyTimeoutMs: this.opts.busyTimeoutMs ?? 50 });
      this.search = new UsageSearch(this.reader.db);
      this.openedFile = { dev: st.dev, ino: st.ino };
      this.lastId = 0;
      const rows = byStartDesc(this.reader.latest(this.keep));
      this.lastId = rows.reduce((m, r) => Math.max(m, r.id), 0);
      this.lastStatsAt = 0;
      this.set({ ...this.getSnapshot(), rows, dbState: 'open', notice: null });
      return true;
    } catch (e) {
      this.closeReader();
      if (e instanceof UsageDbMissingError) {
        this.set({ ...this.getSnapshot(), dbState: 'absent', notice: `no usage log yet (the gateway creates ${this.opts.dbPath})` });
        return false;
      }
      if (e instanceof UsageSchemaTooNewError) {
        this.nextOpenAt = now + 10_000;
        this.set({
          ...this.getSnapshot(),
          dbState: 'too-new',
          notice: `usage log schema v${e.found} is newer than this ptui (v${e.supported}): upgrade ptui`,
        });
        return false;
      }
      if (isLockError(e)) {
        this.set({ ...this.getSnapshot(), dbState: 'locked', notice: 'usage log locked by another program: retrying' });
        return false;
      }
      // Created but not initialised yet, or unreadable: say why and retry next round.
      this.set({ ...this.getSnapshot(), dbState: 'error', notice: (e as Error).message });
      return false;
    }
  }

  private isOpenFile(): boolean {
    try {
      const st = fs.statSync(this.opts.dbPath);
      return st.ino === this.openedFile?.ino && st.dev === this.openedFile.dev;
    } catch {
      return false;
    }
  }

  private closeReader(): void {
    try {
      this.reader?.close();
    } catch {
      // already closed
    }
    this.reader = null;
    this.search = null;
  }
}

/**
 * Newest start first, as the panel's time column says (rows are written when a request ends,
 * so id order is completion order); the same start: the later id first.
 */
function byStartDesc(rows: readonly StoredUsageRow[]): StoredUsageRow[] {
  return [...rows].sort(startOrder);
}
