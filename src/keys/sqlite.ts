// The key store on a local SQLite file, `runtime/keys.db`. `ptui keys` writes it; the gateway
// keeps one read-only connection and asks it, several times a second, whether anything changed
// (PRAGMA data_version moves when another connection commits, a new inode means the file was
// replaced). Rare writes, so a plain rollback journal: no -wal/-shm files for readers to need.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { keyRecordSchema, type KeyRecord } from './schema.js';
import { KeyStoreError, type KeySet, type KeyStore, type NewKey } from './store.js';

type Db = Database.Database;

// Each entry moves the schema from version i to i+1. Never edit a shipped entry: append one.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     id INTEGER PRIMARY KEY,
     alias TEXT NOT NULL,
     key_hash TEXT NOT NULL UNIQUE,   -- SHA-256 hex of the key; the key itself is never stored
     created_at TEXT NOT NULL,        -- ISO 8601 UTC
     expires_at TEXT,
     revoked_at TEXT,
     budget_usd REAL,
     budget_window TEXT,
     budget_action TEXT,
     rpm INTEGER,
     tpm INTEGER,
     models TEXT                      -- JSON array of logical model names; NULL = every model
   );
   -- one active key per alias; revoked ones stay as history
   CREATE UNIQUE INDEX keys_active_alias ON keys(alias) WHERE revoked_at IS NULL;`,
];
export const KEYS_SCHEMA_VERSION = MIGRATIONS.length;

// The writer (a CLI run) may wait for the gateway's short reads; the gateway polls from its event
// loop and must never wait long: a busy file is simply asked again on the next poll.
const WRITER_BUSY_MS = 5000;
const READER_BUSY_MS = 20;

interface Row {
  alias: string;
  key_hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  budget_usd: number | null;
  budget_window: string | null;
  budget_action: string | null;
  rpm: number | null;
  tpm: number | null;
  models: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const msOf = (s: string | null) => (s === null ? null : Date.parse(s));

function decode(r: Row): KeyRecord | null {
  let models: unknown;
  try {
    models = r.models === null ? undefined : JSON.parse(r.models);
  } catch {
    return null;
  }
  const parsed = keyRecordSchema.safeParse({
    alias: r.alias,
    keyHash: r.key_hash,
    createdAt: msOf(r.created_at),
    expiresAt: msOf(r.expires_at),
    revokedAt: msOf(r.revoked_at),
    limits: {
      ...(r.budget_usd !== null ? { budget: { max_budget_usd: r.budget_usd, budget_window: r.budget_window, action: r.budget_action ?? 'warn' } } : {}),
      ...(r.rpm !== null ? { rpm: r.rpm } : {}),
      ...(r.tpm !== null ? { tpm: r.tpm } : {}),
      ...(models !== undefined ? { models } : {}),
    },
  });
  return parsed.success ? parsed.data : null;
}

function describeSqliteError(file: string, err: unknown): KeyStoreError {
  if (err instanceof KeyStoreError) return err;
  const e = err as { code?: string; message?: string };
  if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED' || e.code?.startsWith('SQLITE_BUSY_')) {
    return new KeyStoreError('locked', `${file} is locked by another process`);
  }
  if (e.code === 'ENOENT' || e.code === 'SQLITE_CANTOPEN') return new KeyStoreError('missing', `${file} does not exist`);
  return new KeyStoreError('unreadable', `cannot read ${file}: ${e.message ?? String(err)}`);
}

export class SqliteKeyStore implements KeyStore {
  private db: Db | null = null;
  /** dev:ino of the file the connection has open */
  private fileId = '';
  /** rows that failed validation at the last read (skipped: such a key authenticates nobody) */
  invalidRows = 0;

  private constructor(
    readonly location: string,
    private readonly writable: boolean,
  ) {}

  /** For `ptui keys`: creates the directory, the file (owner-only) and the schema as needed. */
  static openWriter(file: string): SqliteKeyStore {
    const s = new SqliteKeyStore(file, true);
    s.connect();
    return s;
  }

  /** For the gateway: read-only, opened lazily, reopened when the file is replaced. */
  static reader(file: string): SqliteKeyStore {
    return new SqliteKeyStore(file, false);
  }

  private connect(): Db {
    const file = this.location;
    let st: fs.Stats;
    try {
      if (this.writable) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // created owner-only before SQLite opens it (SQLite would use the umask)
        fs.closeSync(fs.openSync(file, 'a', 0o600));
      }
      st = fs.statSync(file);
    } catch (err) {
      throw describeSqliteError(file, err);
    }
    const id = `${st.dev}:${st.ino}`;
    if (this.db && id === this.fileId) return this.db;
    this.closeDb();
    let db: Db;
    try {
      db = new Database(file, { readonly: !this.writable, fileMustExist: true });
    } catch (err) {
      throw describeSqliteError(file, err);
    }
    try {
      db.pragma(`busy_timeout = ${this.writable ? WRITER_BUSY_MS : READER_BUSY_MS}`);
      const found = db.pragma('user_version', { simple: true }) as number;
      if (found > KEYS_SCHEMA_VERSION) {
        throw new KeyStoreError(
          'schema_too_new',
          `${file} has schema version ${found}, newer than this ptui supports (${KEYS_SCHEMA_VERSION}); upgrade ptui or move the file aside`,
        );
      }
      if (this.writable) {
        for (let v = found; v < KEYS_SCHEMA_VERSION; v++) {
          db.transaction(() => {
            db.exec(MIGRATIONS[v]!);
            db.pragma(`user_version = ${v + 1}`);
          }).immediate();
        }
      }
    } catch (err) {
      db.close();
      throw describeSqliteError(file, err);
    }
    this.db = db;
    this.fileId = id;
    return db;
  }

  private closeDb(): void {
    if (this.db) {
      try {
        this.db.close();
      } catch {
        // already unusable
      }
    }
    this.db = null;
    this.fileId = '';
  }

  /** Runs fn on a current connection; SQLite and file errors come out as KeyStoreError. */
  private run<T>(fn: (db: Db) => T): T {
    const db = this.connect();
    try {
      return fn(db);
    } catch (err) {
      throw describeSqliteError(this.location, err);
    }
  }

  private activeRow(db: Db, alias: string): Row | undefined {
    return db.prepare('SELECT * FROM keys WHERE alias = ? AND revoked_at IS NULL').get(alias) as Row | undefined;
  }

  private insert(db: Db, k: NewKey, nowMs: number): void {
    const b = k.limits.budget;
    db.prepare(
      `INSERT INTO keys (alias, key_hash, created_at, expires_at, revoked_at, budget_usd, budget_window, budget_action, rpm, tpm, models)
       VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
    ).run(
      k.alias,
      k.keyHash,
      iso(nowMs),
      k.expiresAt === null ? null : iso(k.expiresAt),
      b?.max_budget_usd ?? null,
      b?.budget_window ?? null,
      b ? b.action : null,
      k.limits.rpm ?? null,
      k.limits.tpm ?? null,
      k.limits.models ? JSON.stringify(k.limits.models) : null,
    );
  }

  private decodeOne(row: Row | undefined, alias: string): KeyRecord {
    const rec = row && decode(row);
    if (!rec) throw new KeyStoreError('unreadable', `${this.location}: the row of key "${alias}" is not valid`);
    return rec;
  }

  async create(k: NewKey, nowMs: number): Promise<KeyRecord> {
    return this.run((db) =>
      db
        .transaction(() => {
          const existing = this.activeRow(db, k.alias);
          if (existing) {
            const expired = existing.expires_at !== null && Date.parse(existing.expires_at) <= nowMs;
            throw new KeyStoreError(
              'alias_taken',
              `a key with alias "${k.alias}" already exists${expired ? ' (expired)' : ''}; revoke it first, or rotate it for a new key with the same limits`,
            );
          }
          this.insert(db, k, nowMs);
          return this.decodeOne(this.activeRow(db, k.alias), k.alias);
        })
        .immediate(),
    );
  }

  async revoke(alias: string, nowMs: number): Promise<KeyRecord> {
    return this.run((db) =>
      db
        .transaction(() => {
          const row = this.activeRow(db, alias);
          if (!row) throw this.noSuchAlias(db, alias);
          db.prepare('UPDATE keys SET revoked_at = ? WHERE alias = ? AND revoked_at IS NULL').run(iso(nowMs), alias);
          return this.decodeOne({ ...row, revoked_at: iso(nowMs) }, alias);
        })
        .immediate(),
    );
  }

  async rotate(alias: string, newHash: string, nowMs: number): Promise<KeyRecord> {
    return this.run((db) =>
      db
        .transaction(() => {
          const row = this.activeRow(db, alias);
          if (!row) throw this.noSuchAlias(db, alias);
          const old = this.decodeOne(row, alias);
          if (old.expiresAt !== null && old.expiresAt <= nowMs) {
            throw new KeyStoreError('expired', `key "${alias}" expired at ${iso(old.expiresAt)}; revoke it and create a new one with a new expiry`);
          }
          db.prepare('UPDATE keys SET revoked_at = ? WHERE alias = ? AND revoked_at IS NULL').run(iso(nowMs), alias);
          this.insert(db, { alias, keyHash: newHash, expiresAt: old.expiresAt, limits: old.limits }, nowMs);
          return this.decodeOne(this.activeRow(db, alias), alias);
        })
        .immediate(),
    );
  }

  private noSuchAlias(db: Db, alias: string): KeyStoreError {
    const revoked = db.prepare('SELECT 1 FROM keys WHERE alias = ? LIMIT 1').get(alias);
    return new KeyStoreError('no_such_alias', revoked ? `key "${alias}" is already revoked` : `no key with alias "${alias}" (see ptui keys list)`);
  }

  async load(): Promise<KeySet> {
    return this.run((db) => {
      const everCreated = db.prepare('SELECT 1 FROM keys LIMIT 1').get() !== undefined;
      const rows = db.prepare('SELECT * FROM keys WHERE revoked_at IS NULL ORDER BY alias').all() as Row[];
      const out: KeyRecord[] = [];
      let invalid = 0;
      for (const r of rows) {
        const rec = decode(r);
        if (rec) out.push(rec);
        else invalid++;
      }
      this.invalidRows = invalid;
      return { unrevoked: out, everCreated };
    });
  }

  async version(): Promise<string> {
    return this.run((db) => `${this.fileId}:${db.pragma('data_version', { simple: true }) as number}`);
  }

  close(): void {
    this.closeDb();
  }
}
