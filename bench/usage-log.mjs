#!/usr/bin/env node
// The usage log at scale: insert throughput of the gateway's writer (UsageLog.insert, one
// autocommitted row per request, as on the hot path), then on generated logs of 1 M and 10 M
// rows the dashboard's queries (the tail it polls, its per-minute and per-model aggregates, the
// header stats) and the budget seeding the gateway does at start. Reports ms per call, the
// median of several runs after a first (cold-statement) run, which is reported too.
//
// Generated databases are cached as bench/results/usage-<rows>.db (gitignored): making 10 M
// rows takes minutes, reruns reuse them. Queries run relative to the newest row's timestamp,
// so a cached file gives the same figures tomorrow.
//
//   node bench/usage-log.mjs [--quick] [--sizes 1000000,10000000] [--runs 7] [--inserts N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QUICK, ROOT, flag, log, median, numFlag, summarize, table, writeResult } from './lib/common.mjs';
import { generatedDb, human, importDist } from './lib/usage-db.mjs';

const SIZES = flag('sizes', QUICK ? '1000000' : '1000000,10000000').split(',').map(Number).filter((n) => n > 0);
const RUNS = numFlag('runs', QUICK ? 5 : 9);
const INSERTS = numFlag('inserts', QUICK ? 20_000 : 200_000);
const INSERTS_BIG = numFlag('inserts-big', QUICK ? 5_000 : 20_000);

/** A row as the gateway writes it for a small successful chat completion. */
function makeRow(i, ts) {
  return {
    request_id: `bench-${process.pid}-${i}`,
    timestamp: ts,
    provider: i % 3 === 0 ? 'openai' : 'vllm',
    logical_model: i % 3 === 0 ? 'gpt-4' : 'code',
    concrete_model: i % 3 === 0 ? 'gpt-4o' : 'qwen2.5-coder:7b',
    capability: i % 3 === 0 ? 'chat' : 'code',
    endpoint: '/v1/chat/completions',
    stream: i & 1,
    prompt_tokens: 120,
    completion_tokens: 48,
    total_tokens: 168,
    cost_usd: i % 3 === 0 ? 0.00078 : 0,
    latency_ms: 812.5,
    ttft_ms: i & 1 ? 95.2 : null,
    status: 'success',
    http_status: 200,
    error_type: null,
    error_message: null,
    cache_hit: 0,
    attempts: 1,
  };
}

/** Per-insert µs and overall rows/s of UsageLog.insert into `dbPath`. */
function measureInserts(UsageLog, dbPath, n) {
  const ulog = UsageLog.open(dbPath);
  const before = ulog.db.prepare('SELECT MAX(id) AS m FROM llm_usage').get().m ?? 0;
  const us = new Float64Array(n);
  const base = Date.now();
  // Pre-build rows so the figure is the writer's cost, not the row construction's.
  const rows = Array.from({ length: n }, (_, i) => makeRow(i, new Date(base + i).toISOString()));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    ulog.insert(rows[i]);
    us[i] = Number(process.hrtime.bigint() - a) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const buffered = ulog.bufferedRows;
  ulog.close();
  return { rows: n, seconds, rows_per_s: n / seconds, insert_us: summarize(us), buffered_after: buffered, firstNewId: before + 1 };
}

/**
 * The same rows through the same statement, but committed `batch` rows per transaction: what
 * the writer would cost per row if it grouped commits (UsageLog.write is TS-private, callable).
 */
function measureBatched(UsageLog, dbPath, n, batch) {
  const ulog = UsageLog.open(dbPath);
  const base = Date.now();
  const rows = Array.from({ length: n }, (_, i) => makeRow(i, new Date(base + i).toISOString()));
  const commit = ulog.db.transaction((from, to) => {
    for (let i = from; i < to; i++) ulog.write(rows[i]);
  });
  const us = [];
  const t0 = process.hrtime.bigint();
  for (let from = 0; from < n; from += batch) {
    const a = process.hrtime.bigint();
    commit(from, Math.min(n, from + batch));
    us.push(Number(process.hrtime.bigint() - a) / 1000);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  ulog.close();
  return { rows: n, batch, seconds, rows_per_s: n / seconds, commit_us: summarize(us), per_row_us: (seconds * 1e6) / n };
}

/** First run (fresh statement, cold caches) and median of `RUNS` further runs, in ms. */
function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  let out = fn();
  const first = Number(process.hrtime.bigint() - t0) / 1e6;
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const a = process.hrtime.bigint();
    out = fn();
    runs.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  return { first_ms: first, median_ms: median(runs), max_ms: Math.max(...runs), runs_ms: runs, sample: describe(out) };
}

function describe(out) {
  if (Array.isArray(out)) return { length: out.length };
  if (out && typeof out === 'object') {
    if (Array.isArray(out.rows)) return { rows: out.rows.length };
    if (Array.isArray(out.minutes)) return { rows: out.minutes.length + (out.raw?.length ?? 0) };
    return { keys: Object.keys(out).slice(0, 8) };
  }
  return out ?? null;
}

async function main() {
  const logMod = await importDist('usage/log.js');
  if (!logMod) throw new Error('dist/usage/log.js missing: run npm run build');
  const results = { inserts: {}, sizes: {} };

  // 1. Insert throughput into a fresh log.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bench-usage-'));
  try {
    log(`insert: ${INSERTS} rows into a fresh log`);
    results.inserts.fresh = measureInserts(logMod.UsageLog, path.join(tmp, 'llm_usage.db'), INSERTS);
    results.inserts.batched = measureBatched(logMod.UsageLog, path.join(tmp, 'batched.db'), INSERTS, 100);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const queryRows = [];
  for (const size of SIZES) {
    results.sizes[size] = await benchSize(logMod, size, queryRows);
  }

  const ins = results.inserts;
  const insertRows = [['fresh log', ins.fresh]];
  for (const size of SIZES) if (results.sizes[size]?.inserts) insertRows.push([`log of ${human(size)} rows`, results.sizes[size].inserts]);
  const tables = {
    inserts: table(
      ['UsageLog.insert into', 'rows', 'rows/s', 'µs p50', 'µs p99', 'µs max'],
      insertRows.map(([label, r]) => [label, String(r.rows), Math.round(r.rows_per_s), r.insert_us.p50, r.insert_us.p99, r.insert_us.max]),
    ),
    batched: table(
      ['same rows, 100 per transaction', 'rows', 'rows/s', 'µs per row', 'commit µs p50', 'commit µs p99'],
      [['fresh log', String(ins.batched.rows), Math.round(ins.batched.rows_per_s), ins.batched.per_row_us, ins.batched.commit_us.p50, ins.batched.commit_us.p99]],
    ),
    queries: table(['query', 'rows in log', 'first (ms)', 'median (ms)', 'max (ms)', 'result'], queryRows),
  };
  console.log(`\nUsage log (${QUICK ? 'quick' : 'full'}; median of ${RUNS} runs after a first one)\n`);
  console.log(tables.inserts + '\n');
  console.log(tables.batched + '\n');
  console.log(tables.queries + '\n');
  const big = Math.max(...SIZES);
  const bigRes = results.sizes[big];
  results.targets_met = {
    queries_le_5ms_at_10m: big >= 10_000_000 && bigRes?.queries ? Object.values(bigRes.queries).filter((q) => q.kind === 'dashboard').every((q) => q.median_ms <= 5) : null,
    seeding_lt_1s_at_10m: big >= 10_000_000 && bigRes?.queries?.seed ? bigRes.queries.seed.median_ms < 1000 : null,
  };
  console.log('targets: ' + Object.entries(results.targets_met).map(([k, v]) => `${k}=${v === null ? 'n/a (quick)' : v ? 'met' : 'MISSED'}`).join(', '));
  log(`wrote ${writeResult('usage-log', { params: { sizes: SIZES, runs: RUNS, inserts: INSERTS, inserts_big: INSERTS_BIG }, ...results, tables })}`);
}

async function benchSize(logMod, size, queryRows) {
  const reader = await importDist('usage/reader.js');
  const spend = await importDist('usage/spend.js');
  const tracker = await importDist('gateway/budget/tracker.js');
  const { loadConfig } = await importDist('config/load.js');
  if (!reader?.UsageReader) return { skipped: 'dist/usage/reader.js missing' };
  const { file, generated_s } = await generatedDb(size);
  const out = { file: path.relative(ROOT, file), generated_s, size_mb: fs.statSync(file).size / 1024 / 1024, queries: {} };

  // 2. The writer's insert into a log this big (index B-trees deeper, pages colder), then the
  // rows are deleted again so the cached file stays what the generator made.
  log(`${human(size)}: ${INSERTS_BIG} inserts into the generated log`);
  out.inserts = measureInserts(logMod.UsageLog, file, INSERTS_BIG);
  {
    const w = (await importDist('usage/db.js')).openWriterDb(file);
    w.prepare('DELETE FROM llm_usage WHERE id >= ?').run(out.inserts.firstNewId);
    w.pragma('wal_checkpoint(TRUNCATE)');
    w.close();
  }

  const r = reader.UsageReader.open(file);
  // Queries run at the newest row's time, so a log generated yesterday reads like a live one.
  const newest = Date.parse(r.latest(1)[0].timestamp);
  const now = newest + 1;
  const maxId = r.maxId();
  const sample = loadConfig({ home: ROOT });
  const budgets = sample.config?.budgets ?? [];
  const q = out.queries;
  const add = (key, label, kind, fn) => {
    q[key] = { label, kind, ...timeIt(fn) };
    queryRows.push([label, human(size), q[key].first_ms, q[key].median_ms, q[key].max_ms, fmtSample(q[key].sample)]);
  };
  log(`${human(size)}: queries (${RUNS} runs each)`);
  add('maxId', 'maxId (anything new?)', 'dashboard', () => r.maxId());
  add('latest', 'latest(500): first frame', 'dashboard', () => r.latest(500));
  add('rowsAfter', 'rowsAfter(max-20, 500): a tick', 'dashboard', () => r.rowsAfter(maxId - 20, 500));
  add('stats10s', 'stats(last 10 s)', 'dashboard', () => r.stats(now - 10_000, now));
  add('stats60s', 'stats(last 60 s)', 'dashboard', () => r.stats(now - 60_000, now));
  add('perMinute1h', 'perMinute(last hour)', 'dashboard', () => r.perMinute(now - 3_600_000, now));
  add('perMinute24h', 'perMinute(last 24 h)', 'dashboard', () => r.perMinute(now - 86_400_000, now));
  add('perModel1h', 'perModel(last hour)', 'dashboard', () => r.perModel(now - 3_600_000));
  add('perModel24h', 'perModel(last 24 h)', 'dashboard', () => r.perModel(now - 86_400_000));
  if (spend?.computeBudgetStatus && budgets.length) {
    add('budgetStatus', `computeBudgetStatus (${budgets.length} budgets)`, 'dashboard', () => spend.computeBudgetStatus(r.db, budgets, now));
  }
  if (spend?.readSpendSeed && tracker?.seedQueryFor && budgets.length) {
    // What the gateway does at start: one seed query for every budget, then fill the windows.
    add('seed', `budget seeding at start (${budgets.length} budgets)`, 'seed', () => {
      const t = new tracker.BudgetTracker(budgets, now, new Map());
      const seed = spend.readSpendSeed(r.db, tracker.seedQueryFor(t.unseeded.map((b) => b.entry), now, 0));
      t.seed(seed, now);
      return seed;
    });
  }
  r.close();
  return out;
}

function fmtSample(s) {
  if (s === null || s === undefined) return '';
  if (typeof s !== 'object') return String(s);
  if ('length' in s) return `${s.length} rows`;
  if ('rows' in s) return `${s.rows} rows`;
  return Object.keys(s).length ? 'object' : '';
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
