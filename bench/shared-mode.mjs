#!/usr/bin/env node
// Shared mode against local mode in one run: two gateways with the same config (block budgets
// at all three scopes, so every request runs the check-and-reserve script on three budgets and
// settles three buckets), one of them with `shared:` pointing at a redis-server on this machine
// (persistence off, as README "Several boxes" suggests). Rounds are interleaved. Reports the
// latency shared mode adds at c=1 (p50, p99) and req/s at c=16 (autocannon) of both.
//
// Targets: at most +0.15 ms p50 at c=1, and at least 85 % of local mode's req/s at c=16.
//
// --aa runs the same with the second gateway in local mode too: what the figures read when
// nothing differs, the noise floor of this machine at this moment.
//
//   node bench/shared-mode.mjs [--quick] [--no-pin] [--aa] [--rounds N] [--n N] [--seconds S]
import { Redis } from 'ioredis';
import { QUICK, PIN, CLIENT_CPUS, SERVER_CPUS, argv, fmt, log, numFlag, pinSelf, summarize, table, writeResult } from './lib/common.mjs';
import { Samples, chatMix, makePool, runAutocannon, runConcurrent, runSequential } from './lib/load.mjs';
import { LOGICAL_MODEL, makeBenchHome, removeHome, shareThroughRedis, startGateway, startRedis, startUpstream } from './lib/servers.mjs';

const ROUNDS = numFlag('rounds', QUICK ? 2 : 3);
const N_SEQ = numFlag('n', QUICK ? 400 : 2000);
const AC_SECONDS = numFlag('seconds', QUICK ? 3 : 8);
const WARMUP = numFlag('warmup', QUICK ? 600 : 2000);
const CONC = 16;
const AA = argv.includes('--aa');

async function main() {
  pinSelf();
  const upstream = await startUpstream();
  const redis = await startRedis();
  log(`upstream on ${upstream.port}, redis-server on ${redis.port}`);
  const localHome = makeBenchHome(upstream.base);
  const sharedHome = makeBenchHome(upstream.base);
  if (!AA) shareThroughRedis(sharedHome, redis.port, 'bench-shared');
  const [local, shared] = await Promise.all([
    startGateway({ name: 'ptui-local', home: localHome }),
    startGateway({ name: 'ptui-shared', home: sharedHome }),
  ]);
  const targets = [
    { key: 'local', label: 'ptui, local mode', origin: `http://127.0.0.1:${local.port}`, proc: local },
    { key: 'shared', label: AA ? 'ptui, local mode again (--aa)' : 'ptui, shared mode (Redis on this machine)', origin: `http://127.0.0.1:${shared.port}`, proc: shared },
  ];
  const health = await (await fetch(`${targets[1].origin}/health`)).json();
  if (!AA && health.shared?.state !== 'up') throw new Error(`shared gateway is not connected to Redis: ${JSON.stringify(health)}`);

  const r = chatMix(LOGICAL_MODEL);
  for (const t of targets) {
    t.pool1 = makePool(t.origin, 1);
    t.pool16 = makePool(t.origin, CONC);
    t.seq = new Samples();
    t.ac = [];
    const probe = new Samples();
    await runSequential(t.pool1, r, 2, probe);
    if (probe.errors) throw new Error(`${t.label}: probe request failed: ${probe.lastError}`);
    await runConcurrent(t.pool16, r, WARMUP, CONC);
    await runSequential(t.pool1, r, Math.min(WARMUP, 500));
  }
  // Redis' own accounting over the measured rounds: commands it ran (the scripts' inner calls
  // included) and the CPU they took, per request the shared gateway served.
  const redisClient = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: false });
  await redisClient.config('RESETSTAT');
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...targets].reverse() : targets;
    log(`round ${round + 1}/${ROUNDS}: c=1 x${N_SEQ}, autocannon c=${CONC} ${AC_SECONDS}s`);
    for (const t of order) await runSequential(t.pool1, r, N_SEQ, t.seq);
    for (const t of order) t.ac.push(await runAutocannon(t.origin, r, { connections: CONC, duration: AC_SECONDS }));
  }

  const redisStats = parseCommandStats(await redisClient.info('commandstats'));
  redisClient.disconnect();
  const results = {};
  for (const t of targets) {
    const ok = t.ac.every((a) => a.errors === 0 && a.timeouts === 0 && a.non2xx === 0);
    const rps = t.ac.map((a) => a.rps).sort((a, b) => a - b);
    results[t.key] = {
      label: t.label,
      c1_us: { chat: summarize(t.seq.us.chat), stream: summarize(t.seq.us.stream) },
      errors: t.seq.errors,
      rps_c16: ok ? rps[rps.length >> 1] : null,
      autocannon_rounds: t.ac,
    };
    await t.pool1.close();
    await t.pool16.close();
  }
  const l = results.local;
  const s = results.shared;
  const added = {
    chat_p50: s.c1_us.chat.p50 - l.c1_us.chat.p50,
    chat_p99: s.c1_us.chat.p99 - l.c1_us.chat.p99,
    stream_p50: s.c1_us.stream.p50 - l.c1_us.stream.p50,
  };
  const served = N_SEQ * ROUNDS + s.autocannon_rounds.reduce((n, a) => n + a.total, 0);
  const perRequest = summarizeRedis(redisStats, served);
  const rpsRatio = s.rps_c16 && l.rps_c16 ? s.rps_c16 / l.rps_c16 : null;
  const sharedHealth = await fetch(`${targets[1].origin}/health`).then((x) => x.json()).catch(() => null);
  const tables = {
    latency: table(
      ['target: request at c=1 (µs)', 'chat p50', 'chat p99', 'stream p50', 'stream p99'],
      targets.map((t) => [results[t.key].label, ...[results[t.key].c1_us.chat.p50, results[t.key].c1_us.chat.p99, results[t.key].c1_us.stream.p50, results[t.key].c1_us.stream.p99].map(round1)]),
    ),
    summary: table(
      ['metric', 'value', 'target'],
      [
        ['added by shared mode, chat p50 at c=1 (µs)', round1(added.chat_p50), '≤ 150'],
        ['added by shared mode, chat p99 at c=1 (µs)', round1(added.chat_p99), '–'],
        ['added by shared mode, stream p50 at c=1 (µs)', round1(added.stream_p50), '≤ 150'],
        ['req/s at c=16, local mode', round1(l.rps_c16), '–'],
        ['req/s at c=16, shared mode', round1(s.rps_c16), '–'],
        ['Redis round trips per request (top-level commands)', fmt(perRequest.round_trips, 3), '–'],
        ['Redis commands per request (inside scripts too)', fmt(perRequest.commands, 3), '–'],
        ['Redis CPU per request (µs)', fmt(perRequest.usec, 3), '–'],
        ['shared / local req/s', rpsRatio === null ? 'errors' : `${fmt(rpsRatio * 100, 1)} %`, '≥ 85 %'],
      ],
    ),
  };
  const targetsMet = {
    added_p50_c1_le_150us: added.chat_p50 <= 150 && added.stream_p50 <= 150,
    rps_c16_ge_85pct: rpsRatio !== null && rpsRatio >= 0.85,
  };
  console.log(`\nShared mode vs local mode (${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds, c=1 x${N_SEQ}, autocannon ${AC_SECONDS}s per target per round; ${PIN ? `client on CPU ${CLIENT_CPUS}, servers and Redis on CPU ${SERVER_CPUS}` : 'not pinned'})\n`);
  console.log(tables.latency + '\n');
  console.log(tables.summary + '\n');
  console.log('targets: ' + Object.entries(targetsMet).map(([k, v]) => `${k}=${v ? 'met' : 'MISSED'}`).join(', '));
  if (!AA && sharedHealth?.shared?.state !== 'up') console.log(`note: the shared gateway's link was ${JSON.stringify(sharedHealth?.shared)} at the end`);
  const file = writeResult(AA ? 'shared-mode-aa' : 'shared-mode', { params: { aa: AA, rounds: ROUNDS, n_c1: N_SEQ, autocannon_s: AC_SECONDS, warmup: WARMUP, concurrency: CONC, pinned: PIN }, results, redis: { per_request: perRequest, commandstats: redisStats }, added_us: added, rps_ratio: rpsRatio, targets_met: targetsMet, tables });
  log(`wrote ${file}`);
  for (const t of targets) await t.proc.stop();
  await redis.proc.stop();
  await upstream.stop();
  removeHome(localHome);
  removeHome(sharedHome);
}

/** `INFO commandstats` as { command: { calls, usec } }. */
function parseCommandStats(text) {
  const out = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

/** Per request served: round trips (what the gateway sent), all commands run, and Redis CPU. */
function summarizeRedis(stats, served) {
  // commands a script runs are counted under their own names; what a client sends is EVALSHA,
  // EVAL, SCRIPT and plain reads such as the key store's version GET and heartbeats' PINGs
  const topLevel = ['evalsha', 'eval', 'script', 'ping', 'get', 'info', 'config'];
  let rt = 0;
  let all = 0;
  let usec = 0;
  for (const [cmd, v] of Object.entries(stats)) {
    if (cmd === 'config' || cmd === 'info') continue;
    all += v.calls;
    if (topLevel.includes(cmd)) rt += v.calls;
    if (cmd === 'evalsha' || cmd === 'eval' || !topLevel.includes(cmd)) continue;
    usec += v.usec;
  }
  // EVALSHA's usec already holds its inner commands'; plain commands add their own
  usec += (stats.evalsha?.usec ?? 0) + (stats.eval?.usec ?? 0);
  const per = (n) => (served > 0 ? n / served : null);
  return { served, round_trips: per(rt), commands: per(all - rt), usec: per(usec) };
}

function round1(v) {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 10) / 10 : v ?? null;
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
