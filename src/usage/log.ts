// The usage-log writer (README, "Usage log"). `insert` sits on the gateway's hot path: one prepared,
// synchronous statement per row, and it never throws. When the database refuses writes (full
// disk, I/O error, a lock held past busy_timeout, a read-only file) rows wait in a bounded
// in-memory buffer and a timer retries until they land; what does not fit is counted and
// reported through the hooks, never silently lost.
import type Database from 'better-sqlite3';
import { openWriterDb, type Db } from './db.js';
import type { UsageRow, UsageSource } from './schema.js';

export interface UsageLogHooks {
  /** a write (insert or retry) failed; the rows involved are buffered */
  onWriteError?(err: Error): void;
  /** the buffer now holds n rows (0 once drained) */
  onBuffered?(n: number): void;
  /** n rows could not be kept (buffer full, a row the database can never accept, insert after close) */
  onDropped?(n: number, row?: UsageRow): void;
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
}

export const DEFAULT_MAX_BUFFERED = 100_000;
const WRITTEN: Promise<void> = Promise.resolve();
export const DEFAULT_RETRY_MS = 1000;
// Retries write the buffer in chunks so a disk with a little room back makes progress.
const FLUSH_CHUNK = 1000;

export const USAGE_INSERT_SQL = `INSERT INTO llm_usage (
  request_id, timestamp, provider, logical_model, concrete_model, capability, endpoint, stream,
  prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, ttft_ms, status,
  http_status, error_type, error_message, cache_hit, attempts, usage_source, key_alias
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// Errors a row will hit again however often it is retried (bad data, not a bad disk).
const PERMANENT_CODES = new Set(['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_RANGE', 'SQLITE_TOOBIG']);

function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err instanceof TypeError || err instanceof RangeError;
  return PERMANENT_CODES.has(code) || code.startsWith('SQLITE_CONSTRAINT_');
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** 'estimated' only when said so; otherwise the provider's, as long as there are tokens to speak of. */
function usageSource(r: UsageRow): UsageSource | null {
  if (r.usage_source === 'estimated') return 'estimated';
  if (r.usage_source === 'upstream') return 'upstream';
  return num(r.prompt_tokens) !== null || num(r.completion_tokens) !== null || num(r.total_tokens) !== null ? 'upstream' : null;
}

export class UsageLog {
  private readonly stmt: Database.Statement;
  private readonly buffer: UsageRow[] = [];
  /** 'tick' mode: rows of this event-loop turn, not yet written */
  private pending: UsageRow[] = [];
  private drainScheduled = false;
  private turnWritten: Promise<void> | null = null;
  private resolveTurn: (() => void) | null = null;
  /** the last count given to onBuffered, so the gauge is set only when it changes */
  private reportedBuffered = 0;
  private readonly batchTick: boolean;
  private readonly writeMany: (rows: readonly UsageRow[], n: number) => void;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private _degradedReason: string | null = null;
  private readonly maxBuffered: number;
  private readonly retryMs: number;

  private constructor(
    readonly db: Db,
    readonly dbPath: string,
    private hooks: UsageLogHooks,
    opts: UsageLogOptions,
  ) {
    this.stmt = db.prepare(USAGE_INSERT_SQL);
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.batchTick = opts.batch === 'tick';
    // Built once: db.transaction() allocates a wrapper per call.
    this.writeMany = db.transaction((rows: readonly UsageRow[], n: number) => {
      for (let i = 0; i < n; i++) this.write(rows[i]!);
    });
  }

  /** Opens (creating dir, file and schema as needed). Throws an Error naming the path and reason. */
  static open(dbPath: string, hooks: UsageLogHooks = {}, opts: UsageLogOptions = {}): UsageLog {
    return new UsageLog(openWriterDb(dbPath, opts.busyTimeoutMs), dbPath, hooks, opts);
  }

  /** Replaces the hooks (the usage-log callback wires them to metrics and the log). */
  setHooks(hooks: UsageLogHooks): void {
    this.hooks = hooks;
  }

  /** Why rows are not reaching the database right now, e.g. "usage log: database or disk is full"; null when healthy. */
  get degradedReason(): string | null {
    return this._degradedReason;
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
    if (this.buffer.length > 0) {
      const rows = this.buffer.splice(0);
      for (const r of rows) this.hooks.onDropped?.(1, r);
      this.reportBuffered();
    }
    try {
      // Fold the WAL back into the main file so readers after us open one small file.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a full disk can refuse the checkpoint; the WAL stays valid and is replayed on next open
    }
    this.db.close();
  }

  private write(r: UsageRow): void {
    this.stmt.run(
      r.request_id,
      r.timestamp,
      r.provider ?? null,
      r.logical_model ?? null,
      r.concrete_model ?? null,
      r.capability ?? null,
      r.endpoint,
      r.stream ? 1 : 0,
      num(r.prompt_tokens),
      num(r.completion_tokens),
      num(r.total_tokens),
      num(r.cost_usd),
      num(r.latency_ms) ?? 0,
      num(r.ttft_ms),
      r.status,
      num(r.http_status) ?? 0,
      r.error_type ?? null,
      r.error_message ?? null,
      r.cache_hit ? 1 : 0,
      num(r.attempts) ?? 0,
      usageSource(r),
      typeof r.key_alias === 'string' ? r.key_alias : null,
    );
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
        this.writeMany(rows, rows.length);
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
    this.writeMany(this.buffer, n);
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
