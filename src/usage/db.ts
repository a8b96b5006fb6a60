// Opening the usage log (README, "Usage log"): WAL, schema migrations tracked in PRAGMA user_version,
// indexes for time-range queries. The gateway opens it read-write (its only writer); the
// dashboard and budget tools open it read-only.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { USAGE_SCHEMA_VERSION } from './schema.js';

export type Db = Database.Database;

/** The database was written by a newer ptui: reading or migrating it could corrupt or misread it. */
export class UsageSchemaTooNewError extends Error {
  constructor(
    readonly dbPath: string,
    readonly found: number,
    readonly supported: number = USAGE_SCHEMA_VERSION,
  ) {
    super(
      `usage log ${dbPath} has schema version ${found}, newer than this ptui supports (${supported}); upgrade ptui or move the file aside`,
    );
    this.name = 'UsageSchemaTooNewError';
  }
}

/** The usage log file does not exist (yet): the dashboard retries; the gateway creates it. */
export class UsageDbMissingError extends Error {
  constructor(readonly dbPath: string) {
    super(`usage log not found: ${dbPath}`);
    this.name = 'UsageDbMissingError';
  }
}

// WAL readers never block the writer; only another writer (a tool, a stray sqlite3 shell) can.
// The gateway's insert runs on its event loop, so it waits briefly and then buffers the row
// for the retry timer rather than stalling every request behind the lock.
export const WRITER_BUSY_TIMEOUT_MS = 250;
const OPEN_BUSY_TIMEOUT_MS = 5000;
/** Readers (dashboard, tools) can afford to wait longer for a lock. */
export const READER_BUSY_TIMEOUT_MS = 2000;

// Each entry moves the schema from version i to i+1. Never edit a shipped entry: append one.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS llm_usage (
     id INTEGER PRIMARY KEY,
     request_id TEXT NOT NULL,
     timestamp TEXT NOT NULL,
     provider TEXT,
     logical_model TEXT,
     concrete_model TEXT,
     capability TEXT,
     endpoint TEXT NOT NULL,
     stream INTEGER NOT NULL DEFAULT 0,
     prompt_tokens INTEGER,
     completion_tokens INTEGER,
     total_tokens INTEGER,
     cost_usd REAL,
     latency_ms REAL NOT NULL DEFAULT 0,
     ttft_ms REAL,
     status TEXT NOT NULL,
     http_status INTEGER NOT NULL DEFAULT 0,
     error_type TEXT,
     error_message TEXT,
     cache_hit INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0
   );
   -- timestamp alone: the dashboard's recent-window aggregates and any time-range scan
   CREATE INDEX IF NOT EXISTS idx_llm_usage_ts ON llm_usage(timestamp);
   -- budget spend per scope over a window: cost_usd included so the sum never touches the table
   CREATE INDEX IF NOT EXISTS idx_llm_usage_provider_ts ON llm_usage(provider, timestamp, cost_usd);
   CREATE INDEX IF NOT EXISTS idx_llm_usage_model_ts ON llm_usage(logical_model, timestamp, cost_usd);
   CREATE INDEX IF NOT EXISTS idx_llm_usage_capability_ts ON llm_usage(capability, timestamp, cost_usd);`,
  // v2: per-minute rollup kept by triggers, so dashboard aggregates over an hour or a day read
  // a few thousand rollup rows instead of millions of requests. NULL names are stored as ''
  // because NULLs never conflict in a primary key. Backfilled from the rows already there.
  `-- the time index also carries what recent-traffic stats read, so they never touch the table
   DROP INDEX IF EXISTS idx_llm_usage_ts;
   CREATE INDEX idx_llm_usage_ts ON llm_usage(timestamp, status, latency_ms);
   CREATE TABLE IF NOT EXISTS llm_usage_minute (
     minute TEXT NOT NULL,               -- 'YYYY-MM-DDTHH:MM' (UTC) of the request start
     provider TEXT NOT NULL,
     logical_model TEXT NOT NULL,
     capability TEXT NOT NULL,
     requests INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     cost_usd REAL NOT NULL,
     prompt_tokens INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     total_tokens INTEGER NOT NULL,
     latency_ms_sum REAL NOT NULL,
     PRIMARY KEY (minute, provider, logical_model, capability)
   ) WITHOUT ROWID;
   INSERT INTO llm_usage_minute
     SELECT substr(timestamp, 1, 16), coalesce(provider, ''), coalesce(logical_model, ''), coalesce(capability, ''),
            count(*), sum(status = 'error'), coalesce(sum(cost_usd), 0), coalesce(sum(prompt_tokens), 0),
            coalesce(sum(completion_tokens), 0), coalesce(sum(total_tokens), 0), coalesce(sum(latency_ms), 0)
     FROM llm_usage GROUP BY 1, 2, 3, 4;
   CREATE TRIGGER IF NOT EXISTS llm_usage_minute_insert AFTER INSERT ON llm_usage BEGIN
     INSERT INTO llm_usage_minute VALUES (
       substr(NEW.timestamp, 1, 16), coalesce(NEW.provider, ''), coalesce(NEW.logical_model, ''), coalesce(NEW.capability, ''),
       1, NEW.status = 'error', coalesce(NEW.cost_usd, 0), coalesce(NEW.prompt_tokens, 0),
       coalesce(NEW.completion_tokens, 0), coalesce(NEW.total_tokens, 0), coalesce(NEW.latency_ms, 0))
     ON CONFLICT (minute, provider, logical_model, capability) DO UPDATE SET
       requests = requests + 1,
       errors = errors + excluded.errors,
       cost_usd = cost_usd + excluded.cost_usd,
       prompt_tokens = prompt_tokens + excluded.prompt_tokens,
       completion_tokens = completion_tokens + excluded.completion_tokens,
       total_tokens = total_tokens + excluded.total_tokens,
       latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum;
   END;
   -- retention jobs that delete old rows keep the rollup true
   CREATE TRIGGER IF NOT EXISTS llm_usage_minute_delete AFTER DELETE ON llm_usage BEGIN
     UPDATE llm_usage_minute SET
       requests = requests - 1,
       errors = errors - (OLD.status = 'error'),
       cost_usd = cost_usd - coalesce(OLD.cost_usd, 0),
       prompt_tokens = prompt_tokens - coalesce(OLD.prompt_tokens, 0),
       completion_tokens = completion_tokens - coalesce(OLD.completion_tokens, 0),
       total_tokens = total_tokens - coalesce(OLD.total_tokens, 0),
       latency_ms_sum = latency_ms_sum - coalesce(OLD.latency_ms, 0)
     WHERE minute = substr(OLD.timestamp, 1, 16) AND provider = coalesce(OLD.provider, '')
       AND logical_model = coalesce(OLD.logical_model, '') AND capability = coalesce(OLD.capability, '');
     DELETE FROM llm_usage_minute
     WHERE minute = substr(OLD.timestamp, 1, 16) AND provider = coalesce(OLD.provider, '')
       AND logical_model = coalesce(OLD.logical_model, '') AND capability = coalesce(OLD.capability, '') AND requests <= 0;
   END;`,
  // v3: budget seeding takes the rows with a negative or missing cost back out of the rollup's
  // sums. Without an index of their own that meant reading a whole scope index (0.6 s at 10 M
  // rows); this partial index holds only those few rows, and ordinary inserts never touch it.
  `CREATE INDEX IF NOT EXISTS idx_llm_usage_odd_cost ON llm_usage(timestamp)
     WHERE cost_usd < 0 OR cost_usd IS NULL;`,
  // v4: where a row's token counts came from (the provider's usage, or ptui's own count for a
  // request that ended early) and which virtual key sent it (its alias, never the key). Key
  // budgets sum cost per alias over a window; the partial index holds only keyed rows, so
  // requests without a key pay nothing for it.
  `ALTER TABLE llm_usage ADD COLUMN usage_source TEXT CHECK (usage_source IN ('upstream', 'estimated'));
   ALTER TABLE llm_usage ADD COLUMN key_alias TEXT;
   CREATE INDEX IF NOT EXISTS idx_llm_usage_key_ts ON llm_usage(key_alias, timestamp, cost_usd)
     WHERE key_alias IS NOT NULL;`,
  // v5: the console's `/` filter finds rows by status, error type and request id through indexes
  // (usage/search.ts): the status pairs and error types are few and walked one by one, each read
  // newest first; request ids are found by prefix. Error types index only the rows that have one.
  `CREATE INDEX IF NOT EXISTS idx_llm_usage_status_ts ON llm_usage(status, http_status, timestamp);
   CREATE INDEX IF NOT EXISTS idx_llm_usage_error_type_ts ON llm_usage(error_type, timestamp) WHERE error_type IS NOT NULL;
   CREATE INDEX IF NOT EXISTS idx_llm_usage_request_id ON llm_usage(request_id);`,
  // v6: the capability index goes. Every insert touches each index, and a success's answer waits
  // for its row's commit; this one served only the partial edge minutes of the dashboard's
  // capability budgets when no gateway answers, which now read request rows by time through
  // idx_llm_usage_ts (under a minute of rows each; whole minutes come from the rollup). The
  // provider and model indexes stay: the console's search walks them (usage/search.ts).
  `DROP INDEX IF EXISTS idx_llm_usage_capability_ts;`,
  // v7: the provider and model indexes go too, for the same reason: a success's answer waits for
  // its row's commit, and each index is one more B-tree page written per commit (two fewer cut a
  // row's commit by about a quarter). The console's search takes providers and models from the
  // rollup, and the partial edge minutes of the dashboard's provider and model budgets when no
  // gateway answers read request rows by time, as capability budgets have since v6.
  `DROP INDEX IF EXISTS idx_llm_usage_provider_ts;
   DROP INDEX IF EXISTS idx_llm_usage_model_ts;`,
];

/** Every migration in order (entry i takes the schema from version i to i+1); tests build old files from it. */
export const USAGE_MIGRATIONS: readonly string[] = MIGRATIONS;

/** The schema as first shipped; exported so tests can build a v1 file and watch it migrate. */
export const MIGRATION_V1 = MIGRATIONS[0]!;

if (MIGRATIONS.length !== USAGE_SCHEMA_VERSION) {
  throw new Error(`usage schema: ${MIGRATIONS.length} migrations but USAGE_SCHEMA_VERSION is ${USAGE_SCHEMA_VERSION}`);
}

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the missing migrations, each in its own transaction with its version bump. */
export function migrate(db: Db, dbPath: string): void {
  const found = userVersion(db);
  if (found > USAGE_SCHEMA_VERSION) throw new UsageSchemaTooNewError(dbPath, found);
  for (let v = found; v < USAGE_SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** Creates the parent directory, or throws an Error naming the path and the reason. */
export function ensureParentDir(dbPath: string): void {
  const dir = path.dirname(dbPath);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === 'EACCES' || err.code === 'EPERM'
        ? 'permission denied'
        : err.code === 'ENOTDIR' || err.code === 'EEXIST'
          ? 'a path component is not a directory'
          : err.code === 'EROFS'
            ? 'read-only file system'
            : err.code === 'ENOSPC'
              ? 'no space left on device'
              : err.message;
    throw new Error(`cannot create usage log directory ${dir}: ${reason}`, { cause: e });
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new Error(`cannot write usage log directory ${dir}: permission denied`, { cause: e });
  }
}

/** The writer connection's page cache, in KiB. */
export const WRITER_CACHE_KIB = 2048;

/** The writer's connection: created and migrated if needed. */
export function openWriterDb(dbPath: string, busyTimeoutMs = WRITER_BUSY_TIMEOUT_MS): Db {
  ensureParentDir(dbPath);
  let db: Db;
  try {
    db = new Database(dbPath);
  } catch (e) {
    throw new Error(`cannot open usage log ${dbPath}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // Startup may wait for a lock; requests later may not (see WRITER_BUSY_TIMEOUT_MS).
    db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL (journal_mode is ${String(mode)})`);
    // NORMAL with WAL: durable against process crashes (kill -9); only a power loss can lose
    // the last transactions, and it never corrupts the file.
    db.pragma('synchronous = NORMAL');
    // The rollup trigger's upsert needs a statement journal; on disk that is a temp file write
    // per insert (measured: most of the insert's time went to the kernel).
    db.pragma('temp_store = MEMORY');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, which the writer fills
    // as the file grows and keeps for good: most of the gateway's memory beyond the floor's. An
    // insert touches the right edge of each B-tree (a few dozen pages), so SQLite's own default
    // of 2 MB is plenty; budget seeding reads at start-up come from the OS's file cache.
    db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
    migrate(db, dbPath);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  } catch (e) {
    db.close();
    if (e instanceof UsageSchemaTooNewError) throw e;
    throw new Error(`cannot open usage log ${dbPath}: ${(e as Error).message}`, { cause: e });
  }
  return db;
}

/**
 * A read-only connection for the dashboard and tools. Never creates or migrates: a missing
 * file is UsageDbMissingError, an older schema without the table reads as empty upstream.
 */
export function openReaderDb(dbPath: string, busyTimeoutMs = READER_BUSY_TIMEOUT_MS): Db {
  if (!fs.existsSync(dbPath)) throw new UsageDbMissingError(dbPath);
  let db: Db;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new Error(`cannot open usage log ${dbPath}: ${(e as Error).message}`, { cause: e });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    const found = userVersion(db);
    if (found > USAGE_SCHEMA_VERSION) throw new UsageSchemaTooNewError(dbPath, found);
    if (found < 1) throw new Error(`usage log ${dbPath} is not initialised yet (schema version ${found})`);
  } catch (e) {
    db.close();
    if (e instanceof UsageSchemaTooNewError) throw e;
    throw new Error(`cannot read usage log ${dbPath}: ${(e as Error).message}`, { cause: e });
  }
  return db;
}
