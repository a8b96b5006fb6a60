// One gateway per runtime dir. Two gateways on one usage log would each keep budgets from their
// own spend only, so every `block` budget would let through twice its limit.
//
// The lock is a kernel lock (fcntl, through SQLite's exclusive locking mode on a small file of its
// own), not a pid file: the kernel drops it when the process dies, kill -9 included, so there is
// no stale lock to detect and no window where two starters both decide an old pid file is stale
// and both take over. The lock file is never deleted: a starter that opened the old file just
// before an unlink would lock a file nobody else can see, and two gateways would run.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isProcessAlive, readInstanceRecord, type InstanceRecord } from '../config/instance-record.js';

export const INSTANCE_LOCK_FILE = 'gateway.lock';

export interface InstanceLock {
  release(): void;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** Takes the lock, or returns null when another live process holds it. Throws on I/O trouble. */
export function tryLockRuntimeDir(runtimeDir: string): InstanceLock | null {
  const file = path.join(runtimeDir, INSTANCE_LOCK_FILE);
  fs.mkdirSync(runtimeDir, { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    // EXCLUSIVE locking mode keeps the lock of the first write transaction until close.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if (isBusy(e)) return null;
    throw new Error(`cannot lock ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    fs.chmodSync(file, 0o600);
  } catch {
    // the lock holds whatever its mode; owner-only is tidiness, not safety
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

export interface Holder {
  /** the holder's record, once it has written one */
  record: InstanceRecord | null;
}

/**
 * Who holds the lock: waits up to `waitMs` for the holder's record (it writes it only once it
 * listens, so a holder that is still starting has none yet, which on a busy box can take
 * seconds; an old record may be a dead gateway's). The lock, not the record, decides; the record
 * only names the holder.
 */
export async function describeHolder(runtimeDir: string, waitMs = 15_000): Promise<Holder> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = readInstanceRecord(runtimeDir);
    if (r.state === 'ok' && isProcessAlive(r.record.pid) && r.record.pid !== process.pid) return { record: r.record };
    if (Date.now() >= deadline) return { record: null };
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The one-line reason a second gateway gives for exiting. */
export function holderMessage(runtimeDir: string, holder: Holder): string {
  const r = holder.record;
  const who = r ? `pid ${r.pid}, port ${r.port}` : 'it has not recorded its pid and port yet';
  return `another gateway is running on runtime dir ${runtimeDir} (${who}); stop it first (ptui gateway stop) or use another --runtime-dir`;
}
