// The usage-log writer (README, "Usage log"). `insert` sits on the gateway's hot path: one prepared,
// synchronous statement per row, and it never throws. When the database refuses writes (full
// disk, I/O error, a lock held past busy_timeout, a read-only file) rows wait in a bounded
// in-memory buffer and a timer retries until they land; what does not fit is counted and
// reported through the hooks, never silently lost.
import { UsageConnection } from './connection.js';
import { openWriterDb, type Db } from './db.js';
import { isPermanent } from './row-write.js';
import type { UsageRow } from './schema.js';

export { USAGE_INSERT_SQL } from './row-write.js';

export interface UsageLogHooks {
  /** a write (insert or retry) failed; the rows involved are buffered */
  onWriteError?(err: Error): void;
  /** the buffer now holds n rows (0 once drained) */
  onBuffered?(n: number): void;
  /** n rows could not be kept (buffer full, a row the database can never accept, insert after close) */
  onDropped?(n: number, row?: UsageRow): void;
  /** the file was deleted, moved or replaced under us and has been recreated (or adopted) */
  onReopened?(why: string): void;
}

export interface UsageLogOptions {
  /** rows held in memory while the database refuses writes */
  maxBuffered?: number;
  /** how often the buffer is retried while degraded */
  retryMs?: number;
  /** how long an insert waits for another writer's lock before buffering (default WRITER_BUSY_TIMEOUT_MS) */
  busyTimeoutMs?: number;
  /**
   * 'immediate' (default): each insert is its own transaction, on disk (WAL) before insert
   * returns, so a kill -9 right after loses nothing. 'tick': rows of one event-loop turn are
   * written together in one transaction from setImmediate (cheaper under load; a kill -9 can
   * lose the current turn's rows; flush() and close() still write them).
   */
  batch?: 'immediate' | 'tick';
  /** how often the file at the path is compared with the one written to (default 1000 ms) */
  fileCheckMs?: number;
}

export const DEFAULT_MAX_BUFFERED = 100_000;
const WRITTEN: Promise<void> = Promise.resolve();
export const DEFAULT_RETRY_MS = 1000;
// Retries write the buffer in chunks so a disk with a little room back makes progress.
const FLUSH_CHUNK = 1000;

export const DEFAULT_FILE_CHECK_MS = 1000;

export class UsageLog {
  private readonly conn: UsageConnection;
  private readonly fileTimer: NodeJS.Timeout;
  private readonly buffer: UsageRow[] = [];
  /** 'tick' mode: rows of this event-loop turn, not yet written */
  private pending: UsageRow[] = [];
  private drainScheduled = false;
  private turnWritten: Promise<void> | null = null;
  private resolveTurn: (() => void) | null = null;
  /** the last count given to onBuffered, so the gauge is set only when it changes */
  private reportedBuffered = 0;
  private readonly batchTick: boolean;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private _degradedReason: string | null = null;
  private readonly maxBuffered: number;
  private readonly retryMs: number;

  private constructor(
    db: Db,
    readonly dbPath: string,
    private hooks: UsageLogHooks,
    opts: UsageLogOptions,
  ) {
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.conn = new UsageConnection(db, dbPath, opts.busyTimeoutMs, this.maxBuffered, {
      reinsert: (rows) => {
        for (const r of rows) this.insert(r);
      },
      reopened: (why) => {
        this.hooks.onReopened?.(why);
        this.flush();
      },
      error: (err) => this.hooks.onWriteError?.(err),
    });
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.batchTick = opts.batch === 'tick';
    // A stat per second, on a timer: the request path never pays for it.
    this.fileTimer = setInterval(() => void this.conn.check(), opts.fileCheckMs ?? DEFAULT_FILE_CHECK_MS);
    this.fileTimer.unref();
  }

  /** Opens (creating dir, file and schema as needed). Throws an Error naming the path and reason. */
  static open(dbPath: string, hooks: UsageLogHooks = {}, opts: UsageLogOptions = {}): UsageLog {
    return new UsageLog(openWriterDb(dbPath, opts.busyTimeoutMs), dbPath, hooks, opts);
  }

  /** The connection rows go to now (it changes when the file is recreated: read it each time). */
  get db(): Db {
    return this.conn.db;
  }

  /**
   * Makes sure the file at the path is the one written to, recreating or adopting it if not
   * (see UsageConnection.check). Runs every fileCheckMs by itself.
   */
  checkFile(): Promise<void> {
    return this.conn.check();
  }

  /** Replaces the hooks (the usage-log callback wires them to metrics and the log). */
  setHooks(hooks: UsageLogHooks): void {
    this.hooks = hooks;
  }

  /**
   * Why rows are not reaching the database right now, e.g. "usage log: database or disk is full";
   * null when healthy. Asking also looks at the file (one stat), so /health reports a deleted
   * log at once rather than at the next periodic check, and starts its recovery.
   */
  get degradedReason(): string | null {
    if (!this.closed && !this.conn.busy) void this.conn.check();
    return this.conn.reason ?? this._degradedReason;
  }

  /** Rows waiting in memory. */
  get bufferedRows(): number {
    return this.buffer.length;
  }

  insert(row: UsageRow): void {
    if (this.closed) {
      this.drop(row);
      return;
    }
    // Once degraded, keep order: new rows queue behind the buffered ones.
    if (this.buffer.length > 0) {
      this.enqueue(row);
      return;
    }
    if (this.batchTick) {
      this.pending.push(row);
      if (this.pending.length >= FLUSH_CHUNK) this.drainPending();
      else if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(this.drainPending);
      }
      return;
    }
    try {
      this.write(row);
    } catch (err) {
      if (isPermanent(err)) {
        this.hooks.onWriteError?.(err as Error);
        this.drop(row);
        return;
      }
      this.fail(err as Error);
      this.enqueue(row);
    }
  }

  /** Writes pending and buffered rows now if the database accepts them; returns the rows still buffered. */
  flush(): number {
    if (this.pending.length > 0) this.drainPending();
    while (this.buffer.length > 0) {
      const n = Math.min(FLUSH_CHUNK, this.buffer.length);
      try {
        this.writeChunk(n);
      } catch (err) {
        // One bad row must not block the rest: write this chunk row by row, dropping the bad ones.
        if (isPermanent(err) && this.writeRowByRow(n)) continue;
        if (isPermanent(err)) {
          this.reportBuffered();
          return this.buffer.length;
        }
        this.fail(err as Error);
        this.reportBuffered();
        return this.buffer.length;
      }
      this.buffer.splice(0, n);
    }
    this.recovered();
    return 0;
  }

  /** Flushes, then closes. Rows the database still refuses are reported as dropped. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.stopTimer();
    clearInterval(this.fileTimer);
    if (this.buffer.length > 0) {
      const rows = this.buffer.splice(0);
      for (const r of rows) this.hooks.onDropped?.(1, r);
      this.reportBuffered();
    }
    this.conn.close();
  }

  private write(r: UsageRow): void {
    this.conn.write(r);
  }

  /**
   * Resolves once every row inserted so far is committed, or held in the buffer because the
   * database refuses writes. In 'tick' mode that is after this turn's transaction; the gateway
   * holds back the end of a successful answer until then, so a client never sees a success
   * whose row a kill -9 could still lose. One promise per turn, shared by its rows.
   */
  written(): Promise<void> {
    if (this.pending.length === 0) return WRITTEN;
    return (this.turnWritten ??= new Promise<void>((resolve) => (this.resolveTurn = resolve)));
  }

  /**
   * 'tick' mode: writes this turn's rows now instead of after the turn, for a caller that knows
   * no other row can join them (the only request in flight): its answer then waits for the
   * commit alone, not for a trip round the event loop as well.
   */
  writePending(): void {
    if (this.pending.length > 0) this.drainPending();
  }

  /** 'tick' mode: this turn's rows in one transaction; on failure they join the retry buffer. */
  private readonly drainPending = (): void => {
    this.drainScheduled = false;
    const rows = this.pending;
    const resolveTurn = this.resolveTurn;
    this.turnWritten = null;
    this.resolveTurn = null;
    try {
      this.drainRows(rows);
    } finally {
      resolveTurn?.();
    }
  };

  private drainRows(rows: UsageRow[]): void {
    if (rows.length === 0) return;
    this.pending = [];
    if (this.buffer.length === 0) {
      try {
        this.conn.writeMany(rows, rows.length);
        return;
      } catch (err) {
        if (!isPermanent(err)) this.fail(err as Error);
      }
    }
    // Degraded, or one bad row spoiled the batch: the buffer path writes what it can, drops bad
    // rows with a report, and keeps the rest for the retry timer.
    for (const r of rows) this.enqueue(r);
    if (this._degradedReason === null) this.flush();
  }

  private writeChunk(n: number): void {
    this.conn.writeMany(this.buffer, n);
  }

  /** Returns false when a transient error stopped it (the rest stays buffered). */
  private writeRowByRow(n: number): boolean {
    for (let i = 0; i < n; i++) {
      const row = this.buffer[0]!;
      try {
        this.write(row);
      } catch (err) {
        if (!isPermanent(err)) {
          this.fail(err as Error);
          return false;
        }
        this.hooks.onWriteError?.(err as Error);
        this.drop(row);
      }
      this.buffer.shift();
    }
    return true;
  }

  private enqueue(row: UsageRow): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.drop(row);
      return;
    }
    this.buffer.push(row);
    this.reportBuffered();
    this.startTimer();
  }

  private drop(row: UsageRow): void {
    this.hooks.onDropped?.(1, row);
  }

  private fail(err: Error): void {
    this._degradedReason = `usage log: ${err.message}`;
    this.hooks.onWriteError?.(err);
  }

  private recovered(): void {
    this.stopTimer();
    this._degradedReason = null;
    this.reportBuffered();
  }

  private reportBuffered(): void {
    if (this.buffer.length === this.reportedBuffered) return;
    this.reportedBuffered = this.buffer.length;
    this.hooks.onBuffered?.(this.buffer.length);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.retryMs);
    // A degraded log must not keep the process alive on its own; SIGTERM's close() flushes.
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
