// Generated usage logs for the benches: `generatedDb(rows)` makes one of that many rows once
// (seeded, to a temp name, then renamed) as bench/results/usage-<rows>-v<schema>.db (gitignored)
// and returns it afterwards; making 10 M rows takes minutes, reruns reuse the file.
import fs from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, ROOT, log } from './common.mjs';

const dist = (p) => path.join(ROOT, 'dist', p);

export async function importDist(rel) {
  const file = dist(rel);
  if (!fs.existsSync(file)) return null;
  return import(file);
}

export function human(n) {
  return n >= 1e6 ? `${n / 1e6} M` : n >= 1e3 ? `${n / 1e3} k` : String(n);
}

/** The cached generated log of `size` rows, made on first use (to a temp name, then renamed). */
export async function generatedDb(size) {
  const { USAGE_SCHEMA_VERSION } = await importDist('usage/schema.js');
  const file = path.join(RESULTS_DIR, `usage-${size}-v${USAGE_SCHEMA_VERSION}.db`);
  if (fs.existsSync(file)) return { file, generated_s: null };
  const gen = await importDist('usage/generate.js');
  const db = await importDist('usage/db.js');
  if (!gen?.generateRows) throw new Error('dist/usage/generate.js (generateRows) missing: run npm run build');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  log(`generating ${human(size)} rows into ${path.relative(ROOT, file)} (once; reused afterwards)`);
  const t0 = Date.now();
  const w = db.openWriterDb(tmp);
  let lastLog = Date.now();
  gen.generateRows(w, size, {
    seed: 42,
    onProgress(n) {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  ${human(n)} rows`);
      }
    },
  });
  w.pragma('wal_checkpoint(TRUNCATE)');
  w.close();
  for (const ext of ['-wal', '-shm']) fs.rmSync(tmp + ext, { force: true });
  fs.renameSync(tmp, file);
  const generated_s = (Date.now() - t0) / 1000;
  log(`  generated in ${generated_s.toFixed(1)} s`);
  return { file, generated_s };
}
