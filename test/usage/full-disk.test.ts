// Full disk: the usage log lives on a tiny tmpfs that we fill. Needs root for
// mount(8); without it the suite is skipped with the reason.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageLogHooks } from '../../src/gateway/callbacks/usage-log.js';
import { createLogger } from '../../src/gateway/log.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { UsageLog } from '../../src/usage/log.js';
import { sampleRow, tempDir } from '../helpers/usage.js';

let tmp: ReturnType<typeof tempDir>;
let mnt: string;
let mountError: string | null = null;

beforeAll(() => {
  tmp = tempDir('ptui-fulldisk-');
  mnt = path.join(tmp.dir, 'mnt');
  fs.mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (r.status !== 0) mountError = (r.error?.message ?? r.stderr.trim()) || `mount exited ${r.status}`;
});

afterAll(() => {
  if (!mountError) spawnSync('umount', ['-l', mnt]);
  tmp.cleanup();
});

/** Writes a file until the filesystem says ENOSPC; returns its path. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

describe('usage log on a full disk (tmpfs, 512 KiB)', () => {
  it('inserts never throw, rows are buffered and land once space returns; overflow is counted as dropped', async (t) => {
    if (mountError) {
      t.skip(`cannot mount a tmpfs here (needs root): ${mountError}`);
      return;
    }
    const dbPath = path.join(mnt, 'usage', 'llm_usage.db');
    let errors = 0;
    let dropped = 0;
    let lastBuffered = -1;
    const maxBuffered = 300;
    // The gateway's own wiring (metrics and log lines) rides along to prove the counts reach /metrics.
    const metrics = createMetrics();
    const logLines: string[] = [];
    const wired = usageLogHooks(metrics, createLogger('debug', (l) => logLines.push(l)));
    const log = UsageLog.open(
      dbPath,
      {
        onWriteError: (e) => (errors++, wired.onWriteError!(e)),
        onDropped: (n, r) => ((dropped += n), wired.onDropped!(n, r)),
        onBuffered: (n) => ((lastBuffered = n), wired.onBuffered!(n)),
      },
      { maxBuffered, retryMs: 25 },
    );
    const metric = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values[0]!.value;
    const filler = fill(mnt);

    // Write until the database refuses (pages already allocated in the WAL absorb a few rows).
    const sent: string[] = [];
    for (let i = 0; i < 20_000 && log.degradedReason === null; i++) {
      const r = sampleRow({ error_message: 'x'.repeat(150) });
      expect(() => log.insert(r)).not.toThrow();
      sent.push(r.request_id);
    }
    expect(log.degradedReason).toBe('usage log: database or disk is full');
    expect(errors).toBeGreaterThanOrEqual(1);
    expect(log.bufferedRows).toBe(1);

    // Keep serving: more rows than the buffer holds.
    for (let i = 0; i < maxBuffered + 50; i++) {
      const r = sampleRow();
      expect(() => log.insert(r)).not.toThrow();
      sent.push(r.request_id);
    }
    expect(log.bufferedRows).toBe(maxBuffered);
    expect(lastBuffered).toBe(maxBuffered);
    expect(dropped).toBe(51);
    expect(await metric('backend_usage_log_buffered_rows')).toBe(maxBuffered);
    expect(await metric('backend_usage_log_dropped_rows_total')).toBe(51);
    // each dropped row leaves a log line with its id
    const droppedLines = logLines.map((l) => JSON.parse(l)).filter((l) => l.event === 'usage_row_dropped');
    expect(droppedLines).toHaveLength(51);
    expect(droppedLines[0].request_id).toBe(sent[sent.length - 51]);
    // the retry timer keeps failing while the disk is full, and nothing is lost meanwhile
    await new Promise((r) => setTimeout(r, 100));
    expect(log.bufferedRows).toBe(maxBuffered);
    expect(log.degradedReason).not.toBeNull();

    fs.rmSync(filler);
    await expect.poll(() => log.bufferedRows, { timeout: 10_000, interval: 20 }).toBe(0);
    expect(log.degradedReason).toBeNull();
    expect(lastBuffered).toBe(0);
    expect(await metric('backend_usage_log_buffered_rows')).toBe(0);
    expect(await metric('backend_usage_log_errors_total')).toBe(errors);
    expect(errors).toBeGreaterThan(1); // the retries while full counted too
    log.insert(sampleRow()); // healthy again: straight to the database
    log.close();

    const db = new Database(dbPath, { readonly: true });
    const stored = db.prepare('SELECT count(*) FROM llm_usage').pluck().get() as number;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    // every row sent is either stored or was reported as dropped
    expect(stored + dropped).toBe(sent.length + 1);
    expect(dropped).toBe(51);
  });

  it('the tmpfs is really small (the test above is not vacuous)', (t) => {
    if (mountError) {
      t.skip(`cannot mount a tmpfs here (needs root): ${mountError}`);
      return;
    }
    const out = execFileSync('df', ['-k', '--output=size', mnt], { encoding: 'utf8' });
    expect(Number(out.trim().split('\n').pop())).toBeLessThanOrEqual(512);
  });
});
