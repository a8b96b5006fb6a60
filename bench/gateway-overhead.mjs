#!/usr/bin/env node
// Gateway overhead: the same request mix (a small chat completion and a streamed one, in
// alternation) sent to the simulated upstream at 0 ms latency (a) directly, (b) through ptui
// with the whole pipeline on, (c) through ptui with no callbacks, (d) through Portkey's
// open-source gateway. Rounds are interleaved after a warm-up so that drift (thermal, other
// tenants) hits every target alike. Reports added latency at concurrency 1 and 16, requests/s
// at 16 (autocannon), time to first token for streams, and each server's RSS after each round's
// load (the median of the rounds, and the largest).
//
// A fifth target, "node floor proxy" (bench/lib/floor-proxy.mjs: node:http + undici, nothing
// else), shows what one extra Node.js hop costs on this machine: no Node gateway adds less. A
// sixth, the durable floor (the same proxy that parses the body and commits one row with ptui's
// usage-log writer before each answer's end), shows what the usage log's rule costs by itself.
//
// Every ptui target runs with the V8 flags the gateway ships with (bench/lib/servers.mjs,
// SHIPPED_GATEWAY_FLAGS); the floor runs with node's defaults, and --floor-as-shipped adds it
// once more with ptui's flags, for a like-with-like RSS.
//
// PTUI_BENCH_ALT_BIN=/path/to/other/tree/bin/ptui adds that build (pipeline on) as one more
// target, for a before/after of a hot-path change measured in the same interleaved rounds.
//
//   node bench/gateway-overhead.mjs [--quick] [--no-portkey] [--no-floor] [--no-durable-floor] [--floor-as-shipped] [--no-pin] [--features] [--rounds N] [--slices N] [--n N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, QUICK, argv, fmt, freePort, log, numFlag, pinSelf, PIN, CLIENT_CPUS, SERVER_CPUS, rssMb, summarize, table, writeResult,
} from './lib/common.mjs';
import { Samples, chatMix, makePool, runAutocannon, runConcurrent, runSequential } from './lib/load.mjs';
import { ensurePortkey, portkeyHeaders, startPortkey } from './lib/portkey.mjs';
import { CONCRETE_MODEL, LOGICAL_MODEL, SHIPPED_GATEWAY_FLAGS, makeBenchHome, makeFeaturesHome, removeHome, startFloor, startGateway, startUpstream } from './lib/servers.mjs';

const ROUNDS = numFlag('rounds', QUICK ? 2 : 3);
const N_SEQ = numFlag('n', QUICK ? 300 : 2000); // per target per round, at c=1
const N_CONC = numFlag('n16', QUICK ? 1200 : 8000); // per target per round, at c=16
const AC_SECONDS = numFlag('seconds', QUICK ? 2 : 8); // autocannon, per target per round
const WARMUP = numFlag('warmup', QUICK ? 600 : 3000);
/** each round's c=1 and c=16 requests are sent in this many interleaved slices per target */
const SLICES = numFlag('slices', QUICK ? 3 : 10);
/** autocannon's seconds per round are split into runs of about this long, interleaved too */
const AC_SLICE_S = numFlag('ac-slice-seconds', 2);
/** requests per slice, even, so that every slice sends as many plain requests as streamed ones */
const sliceOf = (n) => Math.max(2, Math.round(n / SLICES / 2) * 2);
const CONC = 16;

/** --features: one more target, ptui with a virtual key, rate limits and engine scraping on */
const FEATURES = argv.includes('--features');

async function main() {
  pinSelf();
  // the features target scrapes the upstream as a vLLM engine: every target then talks to the same sim
  if (FEATURES) process.env.PTUI_BENCH_ENGINE ??= 'vllm';
  const upstream = await startUpstream();
  log(`upstream on ${upstream.port} (pid ${upstream.pid})`);
  const homes = [];
  const targets = [
    { key: 'direct', label: 'direct', origin: `http://127.0.0.1:${upstream.port}`, reqs: chatMix(CONCRETE_MODEL), proc: upstream },
  ];
  // The floor: a bare node:http + undici relay, the least any Node.js proxy adds here.
  if (!argv.includes('--no-floor')) {
    const floor = await startFloor(upstream);
    targets.push({ key: 'floor', label: 'node floor proxy', origin: floor.origin, reqs: chatMix(CONCRETE_MODEL), proc: floor });
    // The durable floor: the floor that also parses the body and commits one usage-log row (ptui's
    // writer) before the end of each answer, the rule ptui keeps. What it adds over the floor is
    // the price of that rule alone, with no routing, guardrails, budgets or metrics. It runs with
    // the gateway's V8 flags, as the writer it borrows does inside ptui.
    if (!argv.includes('--no-durable-floor') && gatewayBuilt()) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bench-floor-'));
      homes.push(dir);
      const df = await startFloor(upstream, { nodeArgs: SHIPPED_GATEWAY_FLAGS, name: 'durable-floor', durable: path.join(dir, 'llm_usage.db') });
      targets.push({ key: 'durable_floor', label: 'durable floor (floor + parse + usage-log row)', origin: df.origin, reqs: chatMix(CONCRETE_MODEL), proc: df });
    }
    // For reference: the floor with the V8 flags ptui ships with (its RSS under like flags).
    if (argv.includes('--floor-as-shipped') && SHIPPED_GATEWAY_FLAGS.length) {
      const f2 = await startFloor(upstream, { nodeArgs: SHIPPED_GATEWAY_FLAGS, name: 'floor-flags' });
      targets.push({ key: 'floor_flags', label: `node floor proxy, ${SHIPPED_GATEWAY_FLAGS.join(' ')}`, origin: f2.origin, reqs: chatMix(CONCRETE_MODEL), proc: f2 });
    }
  }
  if (gatewayBuilt()) {
    const [homeOn, homeOff] = [makeBenchHome(upstream.base), makeBenchHome(upstream.base)];
    homes.push(homeOn, homeOff);
    const [gwOn, gwOff] = await Promise.all([
      startGateway({ name: 'ptui', home: homeOn, pipeline: true }),
      startGateway({ name: 'ptui-bare', home: homeOff, pipeline: false }),
    ]);
    log(`ptui (pipeline) on ${gwOn.port}, ptui (no pipeline) on ${gwOff.port}`);
    targets.push(
      { key: 'ptui', label: 'ptui, pipeline on', origin: `http://127.0.0.1:${gwOn.port}`, reqs: chatMix(LOGICAL_MODEL), proc: gwOn },
      { key: 'ptui_bare', label: 'ptui, pipeline off', origin: `http://127.0.0.1:${gwOff.port}`, reqs: chatMix(LOGICAL_MODEL), proc: gwOff },
    );
    if (FEATURES) {
      const f = makeFeaturesHome(upstream.base);
      homes.push(f.home);
      const gwF = await startGateway({ name: 'ptui-features', home: f.home, pipeline: true });
      targets.push({ key: 'ptui_features', label: 'ptui, + key, rate limits, engine', origin: `http://127.0.0.1:${gwF.port}`, reqs: chatMix(LOGICAL_MODEL, f.headers), proc: gwF });
    }
    // Before/after for a hot-path change: another build's bin/ptui as one more target.
    const alt = process.env.PTUI_BENCH_ALT_BIN;
    if (alt) {
      homes.push(makeBenchHome(upstream.base));
      const gwAlt = await startGateway({ name: 'ptui-alt', home: homes.at(-1), pipeline: true, bin: alt });
      targets.push({ key: 'ptui_alt', label: 'ptui alt build, pipeline on', origin: `http://127.0.0.1:${gwAlt.port}`, reqs: chatMix(LOGICAL_MODEL), proc: gwAlt, bin: alt });
    }
  } else {
    log('ptui gateway not built (dist/gateway/main.js missing): measuring direct and Portkey only');
  }
  let portkeyInfo = null;
  if (!argv.includes('--no-portkey')) {
    try {
      portkeyInfo = await ensurePortkey();
      const pk = await startPortkey(await freePort());
      log(`portkey ${portkeyInfo.version} on ${pk.port ?? ''} (pid ${pk.pid})`);
      targets.push({
        key: 'portkey',
        label: `portkey ${portkeyInfo.version}`,
        origin: pk.origin,
        reqs: chatMix(CONCRETE_MODEL, portkeyHeaders(upstream.base)),
        proc: pk,
      });
    } catch (err) {
      log(`portkey skipped: ${err.message}`);
      portkeyInfo = { error: err.message };
    }
  }

  for (const t of targets) {
    t.pool1 = makePool(t.origin, 1);
    t.pool16 = makePool(t.origin, CONC);
    t.seq = new Samples();
    t.conc = new Samples();
    t.ac = [];
    // A wrong answer would make every figure meaningless: check both kinds once, loudly.
    const probe = new Samples();
    await runSequential(t.pool1, t.reqs, 2, probe);
    if (probe.errors) throw new Error(`${t.label}: probe request failed: ${probe.lastError}`);
  }

  log(`warm-up: ${WARMUP} requests per target`);
  for (const t of targets) {
    await runConcurrent(t.pool16, t.reqs, WARMUP, CONC);
    await runSequential(t.pool1, t.reqs, Math.min(WARMUP, 500));
  }

  // Interleave: each round visits every target, starting from a different one, in slices: on a
  // shared VM the speed of the whole box drifts by tens of percent within seconds (steal time),
  // so every target gets a share of each stretch of time and the ratios compare like with like.
  for (let r = 0; r < ROUNDS; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    log(`round ${r + 1}/${ROUNDS}: c=1 x${N_SEQ}, c=${CONC} x${N_CONC}, autocannon ${AC_SECONDS}s, each in ${SLICES} slices`);
    for (let s = 0; s < SLICES; s++) for (const t of order) await runSequential(t.pool1, t.reqs, sliceOf(N_SEQ), t.seq);
    for (let s = 0; s < SLICES; s++) for (const t of order) await runConcurrent(t.pool16, t.reqs, sliceOf(N_CONC), CONC, t.conc);
    const acSlices = Math.max(1, Math.round(AC_SECONDS / AC_SLICE_S));
    const acRuns = new Map(order.map((t) => [t, []]));
    for (let s = 0; s < acSlices; s++) {
      for (const t of order) acRuns.get(t).push(await runAutocannon(t.origin, t.reqs, { connections: CONC, duration: AC_SECONDS / acSlices }));
    }
    for (const t of order) {
      t.ac.push(mergeAutocannon(acRuns.get(t)));
      // right after its heaviest load: one reading at the end swings ±10 MB with the GC's timing
      (t.rss ??= []).push(rssMb(t.proc.pid));
    }
  }

  const KINDS = [
    ['chat', 'chat', (x) => x.us.chat],
    ['stream', 'stream (total)', (x) => x.us.stream],
    ['ttft', 'stream TTFT', (x) => x.ttftUs],
  ];
  const results = {};
  for (const t of targets) {
    const acOk = t.ac.filter((a) => a.errors === 0 && a.timeouts === 0 && a.non2xx === 0);
    const r = {
      label: t.label,
      pid: t.proc.pid,
      rss_mb: median(t.rss),
      rss_max_mb: Math.max(...t.rss),
      c1_us: {},
      c16_us: {},
      errors: t.seq.errors + t.conc.errors,
      statuses: { c1: t.seq.statuses, c16: t.conc.statuses },
      last_error: t.seq.lastError ?? t.conc.lastError,
      autocannon_rounds: t.ac,
      rps_c16: acOk.length === t.ac.length ? median(t.ac.map((a) => a.rps)) : null,
      rps_errors: t.ac.reduce((s, a) => s + a.errors + a.timeouts + a.non2xx, 0),
    };
    for (const [k, , pick] of KINDS) {
      r.c1_us[k] = summarize(pick(t.seq));
      r.c16_us[k] = summarize(pick(t.conc));
    }
    results[t.key] = r;
  }
  for (const t of targets) await t.pool1.close(), await t.pool16.close();

  const d = results.direct;
  for (const r of Object.values(results)) {
    r.added_us = {};
    for (const [k] of KINDS) {
      r.added_us[k] = {
        c1_p50: r.c1_us[k].p50 - d.c1_us[k].p50,
        c1_p99: r.c1_us[k].p99 - d.c1_us[k].p99,
        c16_p50: r.c16_us[k].p50 - d.c16_us[k].p50,
        c16_p99: r.c16_us[k].p99 - d.c16_us[k].p99,
      };
    }
  }

  const keys = targets.map((t) => t.key);
  const latencyRows = [];
  for (const k of keys) {
    const r = results[k];
    for (const [kind, label] of KINDS) {
      const a = r.added_us[kind];
      latencyRows.push([`${r.label}: ${label}`, ...[r.c1_us[kind].p50, r.c1_us[kind].p99, a.c1_p50, a.c1_p99,
        r.c16_us[kind].p50, r.c16_us[kind].p99, a.c16_p50, a.c16_p99].map(round1)]);
    }
  }
  const tables = {
    latency: table(
      ['target: request (µs)', 'c=1 p50', 'c=1 p99', 'added p50', 'added p99', 'c=16 p50', 'c=16 p99', 'added p50', 'added p99'],
      latencyRows,
    ),
    throughput: table(
      ['target', 'req/s at c=16', 'errors', 'RSS after each round, median (MB)', 'max (MB)'],
      keys.map((k) => [results[k].label, results[k].rps_c16 ?? 'errors', results[k].errors + results[k].rps_errors, round1(results[k].rss_mb), round1(results[k].rss_max_mb)]),
    ),
  };
  const p = results.ptui;
  const pk = results.portkey;
  const bare = results.ptui_bare;
  const floor = results.floor;
  const ratioRows = [];
  for (const [kind, label] of KINDS) {
    for (const [m, col] of [['c=1 p50', 'c1_p50'], ['c=1 p99', 'c1_p99'], ['c=16 p50', 'c16_p50']]) {
      ratioRows.push([`added ${label} ${m} (µs)`, p?.added_us[kind][col], pk?.added_us[kind][col], bare?.added_us[kind][col], floor?.added_us[kind][col], null]);
    }
  }
  ratioRows.push(['req/s at c=16', p?.rps_c16, pk?.rps_c16, bare?.rps_c16, floor?.rps_c16, d.rps_c16]);
  ratioRows.push(['RSS after each round, median (MB)', p?.rss_mb, pk?.rss_mb, bare?.rss_mb, floor?.rss_mb, null]);
  // For latency the ratio that means something is total time through the gateway over total
  // time direct (at c=1, p50): how much slower a client sees the call.
  ratioRows.push(['c=1 p50 chat, total (µs)', p?.c1_us.chat.p50, pk?.c1_us.chat.p50, bare?.c1_us.chat.p50, floor?.c1_us.chat.p50, d.c1_us.chat.p50]);
  ratioRows.push(['c=1 p50 stream TTFT, total (µs)', p?.c1_us.ttft.p50, pk?.c1_us.ttft.p50, bare?.c1_us.ttft.p50, floor?.c1_us.ttft.p50, d.c1_us.ttft.p50]);
  tables.ratios = table(
    ['metric', 'ptui', 'portkey', 'ptui bare', 'node floor', 'direct', 'ptui/direct', 'ptui/portkey'],
    ratioRows.map(([m, ours, theirs, b, f, direct]) => [m, round1(ours), round1(theirs), round1(b), round1(f), round1(direct), ratio(ours, direct), ratio(ours, theirs)]),
  );
  // The targets are ratios to the floor; the durable floor shows how much of ptui's gap is the
  // usage-log rule alone (a row committed before each answer's end) and how much is the rest.
  const durable = results.durable_floor;
  if (p && floor) {
    const floorRows = [
      ['added chat p50, c=1 (µs)', (x) => x.added_us.chat.c1_p50],
      ['added stream p50, c=1 (µs)', (x) => x.added_us.stream.c1_p50],
      ['added stream TTFT p50, c=1 (µs)', (x) => x.added_us.ttft.c1_p50],
      ['req/s at c=16', (x) => x.rps_c16],
    ];
    tables.floors = table(
      ['against the floors', 'node floor', 'durable floor', 'ptui bare', 'ptui', 'durable/floor', 'ptui/floor', 'ptui/durable'],
      floorRows.map(([m, f]) => {
        const [a, b, c, e] = [floor, durable, bare, p].map((x) => (x ? f(x) : null));
        return [m, round1(a), round1(b), round1(c), round1(e), ratio(b, a), ratio(e, a), ratio(e, b)];
      }),
    );
  }
  const feat = results.ptui_features;
  if (feat && p) {
    // what the newer features cost over the pipeline alone: at most +10 % is the target
    const pct = (a, b) => (a != null && b ? `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)} %` : '–');
    const rows = [
      ['added chat p50, c=1 (µs)', p.added_us.chat.c1_p50, feat.added_us.chat.c1_p50],
      ['added stream TTFT p50, c=1 (µs)', p.added_us.ttft.c1_p50, feat.added_us.ttft.c1_p50],
      ['req/s at c=16', p.rps_c16, feat.rps_c16],
      ['RSS after each round, median (MB)', p.rss_mb, feat.rss_mb],
    ];
    tables.features = table(['with a key, rate limits and engine scraping', 'ptui', 'ptui + features', 'change'], rows.map(([m, a, b]) => [m, round1(a), round1(b), pct(b, a)]));
  }
  const targetsMet = {
    added_p50_c1_le_300us: p ? p.added_us.chat.c1_p50 <= 300 && p.added_us.stream.c1_p50 <= 300 : null,
    rps_c16_ge_5x_portkey: p?.rps_c16 && pk?.rps_c16 ? p.rps_c16 >= 5 * pk.rps_c16 : null,
    added_ttft_le_1ms: p ? p.added_us.ttft.c1_p50 <= 1000 : null,
    // against the node floor proxy of the same run: the least any Node.js gateway adds here
    added_c1_le_1_3x_floor: p && floor ? p.added_us.chat.c1_p50 <= 1.3 * floor.added_us.chat.c1_p50 && p.added_us.stream.c1_p50 <= 1.3 * floor.added_us.stream.c1_p50 : null,
    added_ttft_c1_le_1_3x_floor: p && floor ? p.added_us.ttft.c1_p50 <= 1.3 * floor.added_us.ttft.c1_p50 : null,
    rps_c16_ge_0_8x_floor_and_8x_portkey: p?.rps_c16 && floor?.rps_c16 ? p.rps_c16 >= 0.8 * floor.rps_c16 && (!pk?.rps_c16 || p.rps_c16 >= 8 * pk.rps_c16) : null,
    rss_le_1_1x_floor: p?.rss_mb && floor?.rss_mb ? p.rss_mb <= 1.1 * floor.rss_mb : null,
    // keys, rate limits and engine scraping cost at most 10 % over the pipeline alone
    features_within_10pct: feat && p
      ? feat.added_us.chat.c1_p50 <= 1.1 * p.added_us.chat.c1_p50 && feat.added_us.ttft.c1_p50 <= 1.1 * p.added_us.ttft.c1_p50 &&
        feat.rps_c16 >= p.rps_c16 / 1.1 && feat.rss_mb <= 1.1 * p.rss_mb
      : null,
  };

  console.log(`\nGateway overhead (${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds, c=1 x${N_SEQ}, c=16 x${N_CONC}, autocannon ${AC_SECONDS}s per target per round, in ${SLICES} interleaved slices; ` +
    `${PIN ? `client on CPU ${CLIENT_CPUS}, servers on CPU ${SERVER_CPUS}` : 'not pinned'})\n`);
  console.log(tables.latency + '\n');
  console.log(tables.throughput + '\n');
  console.log(tables.ratios + '\n');
  if (tables.floors) console.log(tables.floors + '\n');
  if (tables.features) console.log(tables.features + '\n');
  console.log('targets: ' + Object.entries(targetsMet).map(([k, v]) => `${k}=${v === null ? 'n/a' : v ? 'met' : 'MISSED'}`).join(', '));
  const file = writeResult('gateway-overhead', {
    params: { rounds: ROUNDS, slices: SLICES, ac_slice_s: AC_SLICE_S, n_c1: N_SEQ, n_c16: N_CONC, autocannon_s: AC_SECONDS, warmup: WARMUP, concurrency: CONC, pinned: PIN },
    portkey: portkeyInfo,
    results,
    targets_met: targetsMet,
    tables,
  });
  log(`wrote ${file}`);
  for (const t of targets) await t.proc.stop();
  for (const h of homes) removeHome(h);
}

/** One round's autocannon slices as one run: requests over seconds, every failure summed. */
function mergeAutocannon(runs) {
  const sum = (k) => runs.reduce((n, a) => n + a[k], 0);
  const total = sum('total');
  const seconds = sum('duration_s');
  return {
    rps: seconds > 0 ? total / seconds : 0,
    total,
    duration_s: seconds,
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    non2xx: sum('non2xx'),
    latency_ms_p50: median(runs.map((a) => a.latency_ms_p50)),
    latency_ms_p99: Math.max(...runs.map((a) => a.latency_ms_p99)),
    slices: runs.length,
  };
}

function gatewayBuilt() {
  return fs.existsSync(path.join(ROOT, 'dist', 'gateway', 'main.js'));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function round1(v) {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 10) / 10 : v ?? null;
}
function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${fmt(a / b, 2)}×` : '–';
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
