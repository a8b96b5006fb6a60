#!/usr/bin/env node
// Memory per open stream: N streamed chat completions held open at once through each target (the
// node floor proxy, and ptui with its whole pipeline on), against a simulated upstream that sends
// one event every --interval-ms. RSS is read before (after a warm-up) and while all N are
// streaming (the median of five readings a second apart); the difference over N is what one open
// stream costs. The client reads every event, so nothing piles up in a socket.
//
// PTUI_BENCH_ALT_BIN=/path/to/other/tree/bin/ptui adds that build as one more target.
//
//   node bench/stream-memory.mjs [--quick] [--streams 1000] [--interval-ms 250] [--no-pin]
import path from 'node:path';
import { Pool } from 'undici';
import { QUICK, ROOT, log, median, numFlag, pinSelf, rssMb, sleep, table, writeResult } from './lib/common.mjs';
import { chatBody } from './lib/load.mjs';
import { CONCRETE_MODEL, LOGICAL_MODEL, makeBenchHome, removeHome, startFloor, startGateway, startUpstream } from './lib/servers.mjs';

const STREAMS = numFlag('streams', QUICK ? 300 : 1000);
const INTERVAL_MS = numFlag('interval-ms', 250);
// Long enough to outlive the measurement: the streams are cut when it is done.
const TOKENS = Math.ceil(120_000 / INTERVAL_MS);
/** The target: one open stream through ptui costs at most this many times what it costs through the floor. */
const TARGET_RATIO = 1.5;

/** Opens n streams at once; resolves once every one has its first event, with a function that cuts them all. */
async function openStreams(origin, model, n, tokens) {
  const pool = new Pool(origin, { connections: n, pipelining: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const body = JSON.stringify({ ...JSON.parse(chatBody(model, true)), max_tokens: tokens });
  let started = 0;
  let failed = 0;
  let lastError = null;
  let cut = false;
  const done = [];
  for (let i = 0; i < n; i++) {
    done.push(
      pool
        .request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body })
        .then(async (res) => {
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          let first = true;
          for await (const _ of res.body) {
            if (first) started++, (first = false);
          }
        })
        .catch((err) => {
          if (!cut) failed++, (lastError = String(err));
        }),
    );
  }
  const deadline = Date.now() + 120_000;
  while (started + failed < n) {
    if (Date.now() > deadline) throw new Error(`only ${started} of ${n} streams started (${failed} failed: ${lastError})`);
    await sleep(100);
  }
  if (failed) throw new Error(`${failed} of ${n} streams failed: ${lastError}`);
  return async () => {
    cut = true;
    await pool.destroy();
    await Promise.all(done);
  };
}

async function measure(t) {
  // warm-up: the code paths of a stream, a few at a time, then the reading at rest
  const warm = await openStreams(t.origin, t.model, 20, 2);
  await warm();
  await sleep(1000);
  const before = rssMb(t.proc.pid);
  const cutAll = await openStreams(t.origin, t.model, STREAMS, TOKENS);
  const readings = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    readings.push(rssMb(t.proc.pid));
  }
  await cutAll();
  const during = median(readings);
  return { label: t.label, rss_before_mb: before, rss_streaming_mb: during, kb_per_stream: ((during - before) * 1024) / STREAMS };
}

async function main() {
  pinSelf();
  const upstream = await startUpstream(undefined, { chunkIntervalMs: INTERVAL_MS });
  log(`slow upstream on ${upstream.port}: one event every ${INTERVAL_MS} ms`);
  const targets = [];
  const floor = await startFloor(upstream, { connections: STREAMS + 100 });
  targets.push({ key: 'floor', label: 'node floor proxy', origin: floor.origin, model: CONCRETE_MODEL, proc: floor });
  const homes = [makeBenchHome(upstream.base)];
  const gw = await startGateway({ name: 'ptui', home: homes[0] });
  targets.push({ key: 'ptui', label: 'ptui, pipeline on', origin: `http://127.0.0.1:${gw.port}`, model: LOGICAL_MODEL, proc: gw });
  if (process.env.PTUI_BENCH_ALT_BIN) {
    homes.push(makeBenchHome(upstream.base));
    const alt = await startGateway({ name: 'ptui-alt', home: homes[1], bin: process.env.PTUI_BENCH_ALT_BIN });
    targets.push({ key: 'ptui_alt', label: 'ptui alt build, pipeline on', origin: `http://127.0.0.1:${alt.port}`, model: LOGICAL_MODEL, proc: alt });
  }
  const results = {};
  for (const t of targets) {
    log(`${t.label}: ${STREAMS} streams at once`);
    results[t.key] = await measure(t);
  }
  const ratio = results.ptui.kb_per_stream / results.floor.kb_per_stream;
  const rows = Object.values(results).map((r) => [r.label, r.rss_before_mb, r.rss_streaming_mb, r.kb_per_stream]);
  const streams = table(['target', 'RSS before (MB)', `RSS with ${STREAMS} streams (MB)`, 'KB per open stream'], rows);
  const verdict = `ptui / floor per open stream: ${ratio.toFixed(2)}× (target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'missed'})`;
  console.log(`\n${STREAMS} open streams (one event every ${INTERVAL_MS} ms)\n\n${streams}\n\n${verdict}`);
  const file = writeResult('stream-memory', {
    params: { streams: STREAMS, interval_ms: INTERVAL_MS },
    results,
    ratio_ptui_to_floor: ratio,
    targets_met: { per_stream_le_1_5x_floor: ratio <= TARGET_RATIO },
    tables: { streams, verdict },
  });
  log(`wrote ${path.relative(ROOT, file)}`);
  for (const t of targets) await t.proc.stop();
  await upstream.stop();
  for (const h of homes) removeHome(h);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
