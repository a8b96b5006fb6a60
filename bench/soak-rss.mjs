#!/usr/bin/env node
// Gateway memory under sustained load: RSS (from /proc/<pid>/status) of a ptui gateway with the
// whole pipeline on, sampled at checkpoints while autocannon drives the chat/stream mix at
// concurrency 16 against the simulated upstream. A leak shows as RSS still climbing between
// 100 k and 1 M requests; a healthy gateway levels off once its heap has warmed up.
//
// The node floor proxy (bench/lib/floor-proxy.mjs, node's default flags) takes the same load in
// the same run, segment by segment in turn with ptui, so the RSS target compares the two under
// the same load on the same box: ptui's RSS at the end at most 1.1x the floor's.
//
//   node bench/soak-rss.mjs [--quick] [--total N] [--no-floor]     (quick: 100 k requests; full: 1 M)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_CPUS, PIN, QUICK, ROOT, SERVER_CPUS, argv, flag, log, numFlag, pinSelf, rssMb, sleep, table, writeResult } from './lib/common.mjs';
import { chatMix, runAutocannon } from './lib/load.mjs';
import { CONCRETE_MODEL, LOGICAL_MODEL, makeBenchHome, removeHome, startFloor, startGateway, startUpstream } from './lib/servers.mjs';

const TOTAL = numFlag('total', QUICK ? 100_000 : 1_000_000);
// For experiments, e.g. --gateway-node-args=--max-semi-space-size=4 (space separated).
const NODE_ARGS = flag('gateway-node-args', '').split(' ').filter(Boolean);
const CHECKPOINTS = [10_000, 50_000, 100_000, 250_000, 500_000, 750_000, 1_000_000].filter((n) => n < TOTAL).concat(TOTAL);

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'gateway', 'main.js'))) {
    console.log('soak-rss: the gateway is not built (dist/gateway/main.js missing); nothing measured');
    writeResult('soak-rss', { skipped: 'gateway not built' });
    return;
  }
  pinSelf();
  const upstream = await startUpstream();
  const home = makeBenchHome(upstream.base);
  const snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-soak-heap-'));
  const gw = await startGateway({
    name: 'ptui',
    home,
    pipeline: !argv.includes('--no-pipeline'),
    // SIGUSR2 makes the gateway write a heap snapshot (after a full GC) at the end of the soak.
    nodeArgs: [...NODE_ARGS, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`],
  });
  const origin = `http://127.0.0.1:${gw.port}`;
  const reqs = chatMix(LOGICAL_MODEL);
  const floor = argv.includes('--no-floor') ? null : await startFloor(upstream);
  const floorReqs = chatMix(CONCRETE_MODEL);
  const samples = [{ requests: 0, rss_mb: rssMb(gw.pid), floor_rss_mb: floor ? rssMb(floor.pid) : null }];
  log(`soak: ${TOTAL} requests at c=16, RSS at ${CHECKPOINTS.join(', ')}; start RSS ${samples[0].rss_mb?.toFixed(1)} MB`);
  let done = 0;
  let errors = 0;
  const t0 = Date.now();
  for (const cp of CHECKPOINTS) {
    const r = await runAutocannon(origin, reqs, { connections: 16, amount: cp - done });
    const s = { requests: cp, rss_mb: rssMb(gw.pid), rps: r.rps, errors: r.errors + r.timeouts + r.non2xx, floor_rss_mb: null };
    if (floor) {
      const f = await runAutocannon(floor.origin, floorReqs, { connections: 16, amount: cp - done });
      s.floor_rss_mb = rssMb(floor.pid);
      s.floor_errors = f.errors + f.timeouts + f.non2xx;
    }
    done = cp;
    errors += s.errors;
    samples.push(s);
    log(`  ${done} requests: RSS ${s.rss_mb?.toFixed(1)} MB, ${Math.round(r.rps)} req/s${floor ? `; floor ${s.floor_rss_mb?.toFixed(1)} MB` : ''}`);
  }
  const seconds = (Date.now() - t0) / 1000;
  // Live objects after a full GC: flat live heap with growing RSS is headroom, not a leak.
  const liveHeapMb = argv.includes('--no-heap') ? null : await liveHeap(gw.pid, snapDir);
  fs.rmSync(snapDir, { recursive: true, force: true });
  if (liveHeapMb !== null) log(`live heap after a full GC: ${liveHeapMb.toFixed(1)} MB`);
  const at = (n) => samples.find((s) => s.requests === n)?.rss_mb ?? null;
  const rss100k = at(100_000);
  const rssEnd = samples.at(-1).rss_mb;
  const floorEnd = samples.at(-1).floor_rss_mb;
  const result = {
    total_requests: TOTAL,
    seconds,
    errors,
    samples,
    rss_100k_mb: rss100k,
    rss_end_mb: rssEnd,
    live_heap_end_mb: liveHeapMb,
    growth_100k_to_end_mb: rss100k !== null && TOTAL > 100_000 ? rssEnd - rss100k : null,
    floor_rss_end_mb: floorEnd,
    ratio_to_floor_end: floorEnd ? rssEnd / floorEnd : null,
    usage_db_mb: fileMb(path.join(home, 'runtime', 'usage', 'llm_usage.db')) + fileMb(path.join(home, 'runtime', 'usage', 'llm_usage.db-wal')),
  };
  result.targets_met = {
    rss_le_100mb_after_1m: TOTAL >= 1_000_000 ? rssEnd <= 100 : null,
    flat_100k_to_1m_within_10pct: TOTAL >= 1_000_000 && rss100k ? rssEnd <= rss100k * 1.1 : null,
    rss_le_1_1x_floor_at_end: floorEnd ? rssEnd <= floorEnd * 1.1 : null,
  };
  result.gateway_node_args = NODE_ARGS;
  result.pipeline = !argv.includes('--no-pipeline');
  const tables = {
    soak: table(
      ['requests', 'RSS (MB)', 'req/s in segment', 'errors', 'floor proxy RSS (MB)'],
      samples.map((s) => [String(s.requests), s.rss_mb, s.rps ?? null, s.errors ?? 0, s.floor_rss_mb]),
    ),
  };
  if (floorEnd) tables.floor = `After ${TOTAL} requests: ptui ${rssEnd.toFixed(1)} MB, the floor proxy ${floorEnd.toFixed(1)} MB under the same load (${(rssEnd / floorEnd).toFixed(2)}×; target ≤ 1.1×).`;
  console.log(`\nGateway RSS under load (pipeline on, c=16, chat/stream mix; ${PIN ? `client CPU ${CLIENT_CPUS}, servers CPU ${SERVER_CPUS}` : 'not pinned'}; ${seconds.toFixed(0)} s)\n`);
  console.log(tables.soak + '\n');
  if (liveHeapMb !== null) console.log(`live heap after ${TOTAL} requests (heap snapshot, after a full GC): ${liveHeapMb.toFixed(1)} MB`);
  if (liveHeapMb !== null) tables.live_heap = `Live heap after ${TOTAL} requests (heap snapshot, after a full GC): ${liveHeapMb.toFixed(1)} MB.`;
  if (result.growth_100k_to_end_mb !== null) console.log(`RSS growth from 100 k to ${TOTAL}: ${result.growth_100k_to_end_mb.toFixed(1)} MB`);
  if (tables.floor) console.log(tables.floor);
  console.log('targets: ' + Object.entries(result.targets_met).map(([k, v]) => `${k}=${v === null ? 'n/a (quick)' : v ? 'met' : 'MISSED'}`).join(', '));
  log(`wrote ${writeResult('soak-rss', { ...result, tables })}`);
  await gw.stop();
  await floor?.stop();
  await upstream.stop();
  removeHome(home);
}

/** Total self size of a heap snapshot the process writes on SIGUSR2 (V8 collects first). */
async function liveHeap(pid, dir) {
  process.kill(pid, 'SIGUSR2');
  let file = null;
  let last = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    file ??= fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot')) ?? null;
    if (!file) continue;
    const size = fs.statSync(path.join(dir, file)).size;
    if (size === last && size > 0) break;
    last = size;
  }
  if (!file) return null;
  try {
    const snap = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const fields = snap.snapshot.meta.node_fields;
    const self = fields.indexOf('self_size');
    let total = 0;
    for (let i = self; i < snap.nodes.length; i += fields.length) total += snap.nodes[i];
    return total / 1024 / 1024;
  } catch {
    return null;
  }
}

function fileMb(f) {
  try {
    return fs.statSync(f).size / 1024 / 1024;
  } catch {
    return 0;
  }
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
