#!/usr/bin/env node
// Where the gateway spends its CPU: runs it under `node --cpu-prof` against the simulated
// upstream, drives the chat/stream mix (c=1 sequential or c=16 autocannon), stops it with
// SIGTERM so the profile is written, and prints the functions with the most self time and the
// files with the most inclusive time in our code. The .cpuprofile stays in bench/results/prof/
// for Chrome DevTools or speedscope.
//
//   node bench/profile-gateway.mjs [--requests 20000] [--c 16] [--no-pipeline] [--shared] [--top 30]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, argv, log, numFlag, pinSelf, table } from './lib/common.mjs';
import { chatMix, makePool, runAutocannon, runSequential } from './lib/load.mjs';
import { LOGICAL_MODEL, makeBenchHome, removeHome, shareThroughRedis, startGateway, startRedis, startUpstream } from './lib/servers.mjs';

const REQUESTS = numFlag('requests', 20_000);
const CONC = numFlag('c', 16);
const TOP = numFlag('top', 30);
const PIPELINE = !argv.includes('--no-pipeline');
/** --shared: the gateway in shared mode against a redis-server on this machine */
const SHARED = argv.includes('--shared');

/** Self time per function and inclusive time per source file, from a .cpuprofile. */
export function summarizeProfile(file, top = TOP) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
  }
  const fnKey = (cf) => `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
  const self = new Map();
  const fileIncl = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const k = fnKey(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    // inclusive per file: count the sample once for every distinct file on its stack
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const u = shortUrl(byId.get(cur).callFrame.url);
      if (!u || seen.has(u)) continue;
      seen.add(u);
      fileIncl.set(u, (fileIncl.get(u) ?? 0) + us);
    }
  }
  let idle = 0;
  for (const [id, us] of selfUs) if (byId.get(id).callFrame.functionName === '(idle)') idle += us;
  const busy = total - idle;
  // Shares of busy time: idle (waiting on the upstream and the client) says nothing about cost.
  const pctOf = (us) => (100 * us) / busy;
  self.delete('(idle) :0');
  const selfRows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, pctOf(us)]);
  const fileRows = [...fileIncl]
    .filter(([u]) => u.startsWith('dist/') || u.startsWith('node_modules/'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([u, us]) => [u, pctOf(us)]);
  return { total_ms: total / 1000, busy_ms: busy / 1000, self: selfRows, files: fileRows };
}

function shortUrl(url) {
  if (!url) return '';
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.lastIndexOf('/node_modules/');
  if (j >= 0) return url.slice(j + 1);
  return url.replace(/^file:\/\//, '');
}

async function main() {
  pinSelf();
  const profDir = path.join(RESULTS_DIR, 'prof');
  fs.mkdirSync(profDir, { recursive: true });
  const before = new Set(fs.readdirSync(profDir));
  const upstream = await startUpstream();
  const home = makeBenchHome(upstream.base);
  const redis = SHARED ? await startRedis() : null;
  if (redis) shareThroughRedis(home, redis.port, 'bench-profile');
  const gw = await startGateway({ home, pipeline: PIPELINE, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] });
  const origin = `http://127.0.0.1:${gw.port}`;
  const reqs = chatMix(LOGICAL_MODEL);
  log(`profiling ptui (pipeline ${PIPELINE ? 'on' : 'off'}${SHARED ? ', shared mode' : ''}): ${REQUESTS} requests at c=${CONC}`);
  if (CONC === 1) {
    const pool = makePool(origin, 1);
    await runSequential(pool, reqs, REQUESTS);
    await pool.close();
  } else {
    const r = await runAutocannon(origin, reqs, { connections: CONC, amount: REQUESTS });
    log(`${Math.round(r.rps)} req/s, ${r.errors + r.non2xx + r.timeouts} errors`);
  }
  await gw.stop('SIGTERM', 15_000);
  await upstream.stop();
  await redis?.proc.stop();
  removeHome(home);
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (!file) throw new Error(`no profile written in ${profDir}`);
  const s = summarizeProfile(path.join(profDir, file));
  console.log(`\nprofile: bench/results/prof/${file} (${s.total_ms.toFixed(0)} ms sampled, ${s.busy_ms.toFixed(0)} ms busy = ` +
    `${((s.busy_ms * 1000) / REQUESTS).toFixed(0)} µs of CPU per request, start-up included)\n`);
  console.log(table(['function (self time)', '% of busy'], s.self) + '\n');
  console.log(table(['file (inclusive time)', '% of busy'], s.files) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
}
