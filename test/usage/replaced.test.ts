// The usage log's file deleted, moved or replaced under a running writer: noticed (at once by
// whoever asks for the health, at the latest by the 1 s check), the file recreated with its
// schema, degraded until then, counted, and no row lost that the process still held.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLog } from '../../src/usage/log.js';
import { USAGE_SCHEMA_VERSION } from '../../src/usage/schema.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
beforeEach(() => {
  tmp = tempDir('ptui-replaced-');
  dbPath = path.join(tmp.dir, 'usage', 'llm_usage.db');
});
afterEach(() => tmp.cleanup());

function ids(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(USAGE_SCHEMA_VERSION);
    return (db.prepare('SELECT request_id FROM llm_usage ORDER BY id').pluck().all() as string[]).sort();
  } finally {
    db.close();
  }
}

const rm = (file: string) => {
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
};

for (const batch of ['immediate', 'tick'] as const) {
  describe(`usage log file deleted or replaced (${batch})`, () => {
    it('rm db, -wal, -shm: degraded at once, recreated by the check with every row the process wrote, before and after', async () => {
      const reopened: string[] = [];
      const log = UsageLog.open(dbPath, { onReopened: (why) => reopened.push(why) }, { batch, fileCheckMs: 60_000 });
      const before = [sampleRow(), sampleRow(), sampleRow()];
      for (const r of before) log.insert(r);
      log.flush();
      rm(dbPath);
      // rows written after the delete, before anyone noticed: they go to the deleted inode
      const during = [sampleRow(), sampleRow()];
      for (const r of during) log.insert(r);
      log.flush();
      expect(log.degradedReason).toMatch(/deleted|replaced/);
      await log.checkFile();
      expect(reopened).toHaveLength(1);
      expect(log.degradedReason).toBeNull();
      const after = sampleRow();
      log.insert(after);
      log.close();
      expect(ids(dbPath)).toEqual([...before, ...during, after].map((r) => r.request_id).sort());
    });

    it('the periodic check finds it by itself', async () => {
      let reopened = 0;
      const log = UsageLog.open(dbPath, { onReopened: () => reopened++ }, { batch, fileCheckMs: 50 });
      log.insert(sampleRow());
      log.flush();
      rm(dbPath);
      await expect.poll(() => reopened, { timeout: 10_000 }).toBe(1);
      await expect.poll(() => fs.existsSync(dbPath)).toBe(true);
      log.close();
      expect(ids(dbPath)).toHaveLength(1);
    });

    it('moved away: a new file at the path with every row; the moved file is left alone', async () => {
      const log = UsageLog.open(dbPath, {}, { batch, fileCheckMs: 60_000 });
      log.insert(sampleRow({ request_id: 'a' }));
      log.flush();
      const moved = path.join(tmp.dir, 'moved.db');
      fs.renameSync(dbPath, moved);
      fs.rmSync(dbPath + '-wal', { force: true });
      fs.rmSync(dbPath + '-shm', { force: true });
      log.insert(sampleRow({ request_id: 'b' }));
      await log.checkFile();
      log.insert(sampleRow({ request_id: 'c' }));
      log.close();
      expect(ids(dbPath)).toEqual(['a', 'b', 'c']);
      expect(fs.existsSync(moved)).toBe(true);
    });

    it("replaced by another usage log: it is kept, and gains the rows written since the last check", async () => {
      const log = UsageLog.open(dbPath, {}, { batch, fileCheckMs: 60_000 });
      log.insert(sampleRow({ request_id: 'old' }));
      log.flush();
      await log.checkFile(); // a check that finds nothing: 'old' is settled in the file it knew
      const other = path.join(tmp.dir, 'other', 'llm_usage.db');
      const o = UsageLog.open(other);
      o.insert(sampleRow({ request_id: 'restored' }));
      o.close();
      log.insert(sampleRow({ request_id: 'since-check' }));
      log.flush();
      fs.renameSync(other, dbPath);
      expect(log.degradedReason).toMatch(/replaced/);
      await log.checkFile();
      expect(log.degradedReason).toBeNull();
      log.insert(sampleRow({ request_id: 'next' }));
      log.close();
      expect(ids(dbPath)).toEqual(['next', 'restored', 'since-check']);
    });

    it('replaced by a file that is not a database: degraded, rows kept in the old file, nothing overwritten', async () => {
      const errors: string[] = [];
      const log = UsageLog.open(dbPath, { onWriteError: (e) => errors.push(e.message) }, { batch, fileCheckMs: 60_000 });
      log.insert(sampleRow({ request_id: 'x' }));
      log.flush();
      rm(dbPath);
      fs.writeFileSync(dbPath, 'not a database at all, and it is the operator’s');
      await log.checkFile();
      expect(log.degradedReason).toMatch(/usage log/);
      log.insert(sampleRow({ request_id: 'y' }));
      expect(fs.readFileSync(dbPath, 'utf8')).toContain('operator');
      // the operator moves it away: the next check recreates the log with both rows
      fs.rmSync(dbPath);
      await log.checkFile();
      expect(log.degradedReason, String(log.degradedReason)).toBeNull();
      log.close();
      expect(ids(dbPath)).toEqual(['x', 'y']);
    });
  });
}
