#!/usr/bin/env node
// Budget check cost against the size of the usage log (issue 4, "done means" 5): the check
// before each request must cost the same with 10 rows and with 1,000,000, because it reads an
// in-memory tracker, never the log. For each log size this prints the seeding the gateway does
// once at start (one grouped range query), and the per-request cost of the budgets callback:
// onRequest (every budget the request falls under, reserve on block budgets) and onSuccess
// (release and charge) as one cycle, on the sample config (model, capability and provider budgets, one of
// them `block` so the estimate/reserve path runs). With --keys N the same runs again with N
// virtual keys in runtime/keys.db, each with its own budget (every other one `block`), loaded by
// the gateway's key ring, every request made with one of them: the check must not grow with N.
//
//   node bench/budget-check.mjs [--quick] [--sizes 10,1000000] [--keys 0,1000] [--iters 200000]
// Needs a build (npm run build).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QUICK, ROOT, flag, log, median, numFlag, table, writeResult } from './lib/common.mjs';

const SIZES = flag('sizes', '10,1000000').split(',').map(Number).filter((n) => n > 0);
const ITERS = numFlag('iters', QUICK ? 50_000 : 200_000);
const RUNS = numFlag('runs', QUICK ? 3 : 7);
const KEY_COUNTS = flag('keys', '0,1000').split(',').map(Number).filter((n) => n >= 0);
const dist = (p) => path.join(ROOT, 'dist', p);

if (!fs.existsSync(dist('gateway/callbacks/budgets.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { loadConfig } = await import(dist('config/load.js'));
const { createMetrics } = await import(dist('gateway/metrics.js'));
const { createLogger } = await import(dist('gateway/log.js'));
const { Context } = await import(dist('gateway/context.js'));
const { acceptBody } = await import(dist('gateway/body.js'));
const { BudgetsCallback } = await import(dist('gateway/callbacks/budgets.js'));
const { UsageLog } = await import(dist('usage/log.js'));
const { SqliteKeyStore } = await import(dist('keys/sqlite.js'));
const { KeyRing } = await import(dist('gateway/keys/ring.js'));
const { generateKey, hashKey } = await import(dist('keys/key.js'));

/** N keys with budgets in the home's keys.db, loaded by a real key ring (as the gateway does). */
async function keyRing(config, n, mode) {
  if (n === 0) return null;
  const writer = SqliteKeyStore.openWriter(config.paths.keysDb);
  const factor = mode === 'under' ? 1e6 : 1e-6;
  for (let i = 0; i < n; i++) {
    const budget = { max_budget_usd: 5 * factor, budget_window: i % 3 === 0 ? '1h' : '1d', action: i % 2 === 0 ? 'block' : 'warn' };
    await writer.create({ alias: `team-${i}`, keyHash: hashKey(generateKey()), expiresAt: null, limits: { budget } }, Date.now());
  }
  writer.close();
  const ring = new KeyRing(SqliteKeyStore.reader(config.paths.keysDb), createLogger('error'));
  await ring.start();
  return ring;
}
const { USAGE_INSERT_SQL } = await import(dist('usage/log.js'));
const generate = fs.existsSync(dist('usage/generate.js')) ? await import(dist('usage/generate.js')) : null;

/**
 * The sample config with every limit scaled: `under` (x1e6) never trips, so both log sizes run
 * the same admit-and-reserve path; `over` (x1e-6) is exceeded everywhere, so the warn header,
 * the provider skip and the 429 path run instead.
 */
function makeHome(mode) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bench-budget-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(home, 'config'), { recursive: true });
  const factor = mode === 'under' ? 1e6 : 1e-6;
  for (const f of ['providers.yaml', 'model-mappings.yaml']) {
    const file = path.join(home, 'config', f);
    const text = fs.readFileSync(file, 'utf8').replace(/max_budget_usd: ([0-9.]+)/g, (_m, v) => `max_budget_usd: ${Number(v) * factor}`);
    fs.writeFileSync(file, text);
  }
  return home;
}

/** Rows spread over the last 24 h (every budget window of the sample config sees most of them). */
function fill(db, n) {
  const endMs = Date.now();
  if (generate) return generate.generateRows(db, n, { startMs: endMs - 24 * 3600_000, endMs, seed: 7 });
  // fallback when the usage module's generator is absent: plain successful rows
  const stmt = db.prepare(USAGE_INSERT_SQL);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const ts = new Date(endMs - Math.floor((i / n) * 24 * 3600_000)).toISOString();
      stmt.run(`b${i}`, ts, 'openai', 'gpt-4', 'gpt-4o', 'chat', 'chat', 0, 100, 50, 150, 0.00075, 500, null, 'success', 200, null, null, 0, 1, 'upstream', null);
    }
  })();
  return n;
}

function timeLoop(fn, iters) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / iters; // ns per op
}

const results = [];
// The log is generated once per size and reused for both limit settings.
const generated = new Map();
for (const size of SIZES) for (const keyCount of KEY_COUNTS) for (const mode of ['under', 'over']) {
  const home = makeHome(mode);
  const env = { AI_BACKEND_HOME: home };
  const { config } = loadConfig({ home, env });
  if (!config) throw new Error('sample config does not load');
  if (!generated.has(size)) {
    const template = path.join(os.tmpdir(), `ptui-bench-budget-${process.pid}-${size}.db`);
    log(`generating ${size} rows`);
    const gen = UsageLog.open(template);
    fill(gen.db, size);
    gen.close(); // checkpoints the WAL: the file alone is the whole log
    generated.set(size, template);
  }
  fs.mkdirSync(path.dirname(config.paths.usageDb), { recursive: true });
  fs.copyFileSync(generated.get(size), config.paths.usageDb);
  const usage = UsageLog.open(config.paths.usageDb);
  if (mode === 'over') {
    // $1 on every scope the sample config budgets, so each (scaled-down) budget is exceeded at any log size
    const at = new Date().toISOString();
    for (const [provider, model, capability] of [['vllm', 'gpt-4', 'chat'], ['openai', 'gpt-4', 'chat'], ['ollama', 'code', 'code']]) {
      usage.insert({ request_id: `over-${provider}`, timestamp: at, provider, logical_model: model, concrete_model: 'x', capability, endpoint: 'chat', stream: 0, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, cost_usd: 1, latency_ms: 1, ttft_ms: null, status: 'success', http_status: 200, error_type: null, error_message: null, cache_hit: 0, attempts: 1 });
    }
    usage.flush?.();
  }
  const rows = usage.db.prepare('SELECT COUNT(*) AS n FROM llm_usage').get().n;
  const ring = await keyRing(config, keyCount, mode);
  const deps = { getConfig: () => config, metrics: createMetrics(), log: createLogger('error'), usage, keys: ring ?? undefined };
  const ringKeys = ring ? [...ring.keys] : [];

  // seeding: what start and a window change on reload cost (a fresh callback each run)
  const seedMs = [];
  let cb;
  for (let r = 0; r < RUNS; r++) {
    cb?.close();
    const t0 = performance.now();
    cb = new BudgetsCallback(deps);
    seedMs.push(performance.now() - t0);
  }

  const body = { model: 'gpt-4', messages: [{ role: 'user', content: 'How many GPUs does this box have? Answer briefly.' }], max_tokens: 64 };
  const model = config.models['gpt-4'];
  const ctxs = Array.from({ length: 1024 }, (_, i) => {
    const c = new Context(`b-${i}`, 'chat', {}, config, performance.now());
    acceptBody(c, body);
    // requests spread over the keys, so each check finds a different key budget
    if (ringKeys.length > 0) c.apiKey = ringKeys[(i * 7919) % ringKeys.length];
    return c;
  });
  const check = [];
  const settle = [];
  // run 0 warms the JIT and is not counted
  for (let r = 0; r <= RUNS; r++) {
    check.push(
      timeLoop((i) => {
        const c = ctxs[i & 1023];
        c.targets = model.targets;
        for (const k of Object.keys(c.state)) delete c.state[k];
        c.responseHeaders = {};
        try {
          cb.onRequest(c);
        } catch (e) {
          if (e?.code !== 'budget_exceeded') throw e;
        }
      }, ITERS),
    );
    settle.push(
      timeLoop((i) => {
        const c = ctxs[i & 1023];
        c.targets = model.targets;
        for (const k of Object.keys(c.state)) delete c.state[k];
        c.responseHeaders = {};
        try {
          cb.onRequest(c);
        } catch (e) {
          if (e?.code !== 'budget_exceeded') throw e;
        }
        c.answeredBy = model.targets[0];
        c.costUsd = 0; // nothing charged, so an `under` budget never fills up mid-benchmark
        cb.onSuccess(c);
      }, ITERS),
    );
  }
  check.shift();
  settle.shift();
  const status = cb.status();
  cb.close();
  ring?.close();
  usage.close();
  fs.rmSync(home, { recursive: true, force: true });
  results.push({ rows, keys: keyCount, mode, exceeded: status.filter((b) => b.exceeded).length, seed_ms: median(seedMs), check_ns: median(check), settle_ns: median(settle), budgets: status.length });
  log(`${rows} rows, ${keyCount} keys, ${mode} limits: seed ${median(seedMs).toFixed(1)} ms, check ${median(check).toFixed(0)} ns, cycle ${median(settle).toFixed(0)} ns`);
}

console.log(`\nbudget check vs usage-log size (${ITERS} requests per run, median of ${RUNS} runs; ${os.cpus()[0]?.model ?? ''})\n`);
console.log(
  table(
    ['rows in llm_usage', 'keys', 'limits', 'budgets exceeded', 'seed at start (ms)', 'onRequest (ns/req)', 'onRequest+onSuccess (ns/req)'],
    results.map((r) => [String(r.rows), String(r.keys), r.mode, `${r.exceeded}/${r.budgets}`, r.seed_ms, r.check_ns, r.settle_ns]),
  ),
);
for (const mode of ['under', 'over']) {
  const rs = results.filter((r) => r.mode === mode && r.keys === KEY_COUNTS[0]);
  const [small, big] = [rs[0], rs[rs.length - 1]];
  if (small && big && small !== big) {
    console.log(`onRequest, ${mode} limits: ${big.rows} rows vs ${small.rows} rows = ${(big.check_ns / small.check_ns).toFixed(2)}x`);
  }
}
for (const mode of ['under', 'over']) {
  const rs = results.filter((r) => r.mode === mode && r.rows === results[results.length - 1].rows);
  const [none, many] = [rs[0], rs[rs.length - 1]];
  if (none && many && none !== many) {
    console.log(`onRequest, ${mode} limits: ${many.keys} keys vs ${none.keys} keys = ${(many.check_ns / none.check_ns).toFixed(2)}x (${many.rows} rows)`);
  }
}
for (const f of generated.values()) fs.rmSync(f, { force: true });
writeResult('budget-check', { iters: ITERS, runs: RUNS, results });
