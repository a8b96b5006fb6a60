// Which file the usage log's open connection really writes to. An operator (or a cleanup job)
// that deletes, moves or replaces llm_usage.db under a running gateway leaves SQLite writing to
// an inode no path names any more: every row after that is gone at the next restart. The writer
// compares the inode it opened with the one the path names now (a stat a second, on a timer),
// and recovers as below.
//
// Order matters because SQLite names its WAL and shared-memory files by path: a connection on
// the old inode that closes deletes `<path>-wal` by name, and a new connection opening the path
// replays whatever `<path>-wal` holds. So the old connection always empties its WAL and closes
// before anything new is opened at the path.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import { USAGE_SCHEMA_VERSION } from './schema.js';

export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The identity of what `file` names now, or null when nothing is there. */
export function identityOf(file: string): FileIdentity | null {
  try {
    const st = fs.statSync(file);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

const sameFile = (a: FileIdentity | null, b: FileIdentity | null): boolean =>
  a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;

/** 'wal-deleted': the database file is still ours but its WAL (and the rows in it) is not at its path. */
export type FileChange = 'deleted' | 'replaced' | 'wal-deleted';

/** What happened to the database and (once it had one) its WAL since they were opened; null: nothing. */
export function fileChange(dbPath: string, db: FileIdentity, wal: FileIdentity | null): FileChange | null {
  const now = identityOf(dbPath);
  if (now === null) return 'deleted';
  if (!sameFile(now, db)) return 'replaced';
  if (wal !== null && !sameFile(identityOf(dbPath + '-wal'), wal)) return 'wal-deleted';
  return null;
}

/**
 * Why the file at dbPath cannot be adopted as the usage log, or null when it can: read from its
 * header (magic and user_version), never by opening it, which would replay our WAL into it.
 */
function unusable(dbPath: string): string | null {
  const head = Buffer.alloc(100);
  let n = 0;
  try {
    const fd = fs.openSync(dbPath, 'r');
    try {
      n = fs.readSync(fd, head, 0, 100, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (n === 0) return null; // an empty file: SQLite makes a database of it
  if (n < 100 || head.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') return 'it is not an SQLite database';
  const version = head.readUInt32BE(60);
  if (version > USAGE_SCHEMA_VERSION) return `its schema version ${version} is newer than this ptui supports`;
  return null;
}

export interface Reopened {
  /** what was at the path when the old connection closed */
  change: FileChange;
  /** the new connection, or null when opening failed after the old one closed (retry later) */
  next: Db | null;
  error: Error | null;
  /** a restored copy that could not be put in place (something appeared at the path); kept for the operator */
  strandedCopy: string | null;
}

/**
 * Moves the log from the old connection to a file at dbPath. Throws with the old connection
 * still open (and still written to) when the path holds something we must not touch.
 * `beforeClose` runs right before the old connection closes, after its last write.
 */
export async function reopenAt(
  old: Db,
  dbPath: string,
  change: FileChange,
  beforeClose: () => void,
  open: () => Db,
): Promise<Reopened> {
  // A deleted file lives on while the connection is open: copy all of it (online backup; writes
  // through this connection meanwhile reach the copy too).
  let copy: string | null = null;
  if (change === 'deleted') {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    copy = `${dbPath}.restore-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await old.backup(copy);
    } catch (e) {
      fs.rmSync(copy, { force: true });
      throw e;
    }
    if (identityOf(dbPath) !== null) {
      fs.rmSync(copy, { force: true });
      copy = null;
      change = 'replaced';
    }
  }
  // From here on everything is synchronous: no row can slip in between.
  if (change === 'replaced') {
    const why = unusable(dbPath);
    if (why) throw new Error(`${dbPath} was replaced by a file that cannot be the usage log: ${why}`);
  }
  beforeClose();
  old.pragma('wal_checkpoint(TRUNCATE)');
  old.close();
  let strandedCopy: string | null = null;
  if (copy !== null) {
    try {
      fs.linkSync(copy, dbPath);
      fs.rmSync(copy, { force: true });
    } catch {
      strandedCopy = copy;
      change = 'replaced';
    }
  }
  try {
    return { change, next: open(), error: null, strandedCopy };
  } catch (e) {
    return { change, next: null, error: e as Error, strandedCopy };
  }
}
