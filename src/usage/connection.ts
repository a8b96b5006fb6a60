// The usage log's writer connection, which follows its file: when the file at the path stops
// being the one written to (deleted, moved, replaced; see file-identity.ts) it recreates or
// adopts it and moves over. The log (log.ts) keeps the rows; this keeps the connection.
import type Database from 'better-sqlite3';
import { openWriterDb, type Db } from './db.js';
import { fileChange, identityOf, reopenAt, type FileChange, type FileIdentity } from './file-identity.js';
import { insertParams, USAGE_INSERT_SQL } from './row-write.js';
import type { UsageRow } from './schema.js';

const DONE: Promise<void> = Promise.resolve();

export interface ConnectionHost {
  /** rows a replacement file lacks, to be inserted again */
  reinsert(rows: readonly UsageRow[]): void;
  /** moved to a new connection; `why` says what happened to the old file */
  reopened(why: string): void;
  error(err: Error): void;
}

export class UsageConnection {
  private stmt!: Database.Statement;
  /** writes rows[0..n) in one transaction */
  writeMany!: (rows: readonly UsageRow[], n: number) => void;
  private _db!: Db;
  private identity: FileIdentity | null = null;
  private walIdentity: FileIdentity | null = null;
  /** rows committed since the file was last seen to be ours: what a replacement file lacks */
  private sinceCheck: UsageRow[] = [];
  private checking: Promise<void> | null = null;
  private detached = false;
  private closed = false;
  /** why the file is not the one written to right now; null when it is */
  reason: string | null = null;

  constructor(
    db: Db,
    readonly dbPath: string,
    private readonly busyTimeoutMs: number | undefined,
    private readonly maxTail: number,
    private readonly host: ConnectionHost,
  ) {
    this.use(db);
  }

  get db(): Db {
    return this._db;
  }

  get busy(): boolean {
    return this.checking !== null;
  }

  write(r: UsageRow): void {
    this.stmt.run(insertParams(r));
    if (this.sinceCheck.length < this.maxTail) this.sinceCheck.push(r);
  }

  private use(db: Db): void {
    this._db = db;
    this.detached = false;
    this.stmt = db.prepare(USAGE_INSERT_SQL);
    // Built once per connection: db.transaction() allocates a wrapper per call. A rolled-back
    // batch was not committed, so it leaves sinceCheck as it was.
    const tx = db.transaction((rows: readonly UsageRow[], n: number) => {
      for (let i = 0; i < n; i++) this.write(rows[i]!);
    });
    this.writeMany = (rows, n) => {
      const mark = this.sinceCheck.length;
      try {
        tx(rows, n);
      } catch (e) {
        this.sinceCheck.length = mark;
        throw e;
      }
    };
    this.identity = identityOf(this.dbPath);
    this.walIdentity = identityOf(this.dbPath + '-wal');
    this.sinceCheck = [];
  }

  /** No connection (the file could not be opened again yet): writes fail as transient, so rows buffer. */
  private detach(reason: Error): void {
    this.detached = true;
    const fail = (): never => {
      throw Object.assign(new Error(`${this.dbPath} is being recreated: ${reason.message}`), { code: 'SQLITE_CANTOPEN' });
    };
    this.stmt = { run: fail } as unknown as Database.Statement;
    this.writeMany = fail;
  }

  /**
   * Compares the file at the path with the one written to; on a difference recreates it (a
   * deleted or moved file: everything the connection still sees, copied to a new file at the
   * path) or adopts it (a replacement that is a usage log gains the rows written since the last
   * check). One check at a time: asked during one, it checks again after it (what changed
   * meanwhile is seen).
   */
  check(): Promise<void> {
    if (this.closed) return DONE;
    if (this.checking) return this.checking.then(() => this.check());
    let work: Promise<void>;
    if (this.detached) work = this.reattach();
    else {
      const change = this.identity ? fileChange(this.dbPath, this.identity, this.walIdentity) : null;
      if (change === null) {
        this.walIdentity ??= identityOf(this.dbPath + '-wal');
        this.sinceCheck = [];
        return DONE;
      }
      this.reason = `usage log: ${this.dbPath} was ${change === 'replaced' ? 'replaced' : 'deleted'} while open; recreating it`;
      work = this.recover(change);
    }
    return (this.checking = work.finally(() => (this.checking = null)));
  }

  private async recover(change: FileChange): Promise<void> {
    let lacking: UsageRow[] = [];
    try {
      const r = await reopenAt(
        this._db,
        this.dbPath,
        change,
        // Rows not yet written stay where they are and go to the new connection.
        () => (lacking = this.sinceCheck),
        () => openWriterDb(this.dbPath, this.busyTimeoutMs),
      );
      if (r.next) this.use(r.next);
      else this.detach(r.error!);
      // Only a replacement lacks them; a restored copy already holds every row.
      if (r.change === 'replaced') this.host.reinsert(lacking);
      if (!r.next) {
        this.reason = `usage log: cannot open ${this.dbPath} again: ${r.error!.message}`;
        return;
      }
      this.reason = null;
      this.host.reopened(r.strandedCopy ? `${r.change}; the restored copy is kept at ${r.strandedCopy}` : r.change);
    } catch (err) {
      // The old connection is still open and written to; the next check tries again.
      this.reason = `usage log: ${(err as Error).message}`;
      this.host.error(err as Error);
    }
  }

  private async reattach(): Promise<void> {
    try {
      this.use(openWriterDb(this.dbPath, this.busyTimeoutMs));
    } catch (err) {
      this.reason = `usage log: cannot open ${this.dbPath} again: ${(err as Error).message}`;
      return;
    }
    this.reason = null;
    this.host.reopened('reopened');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.detached) return;
    try {
      // Fold the WAL back into the main file so readers after us open one small file.
      this._db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a full disk can refuse the checkpoint; the WAL stays valid and is replayed on next open
    }
    this._db.close();
  }
}
