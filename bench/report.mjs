#!/usr/bin/env node
// Rewrites the generated sections of BENCHMARKS.md (between `<!-- bench:NAME -->` and
// `<!-- /bench:NAME -->`) from bench/results/*.json; everything else in the file is prose kept
// as written. Run after a bench run: `node bench/report.mjs` (or `run-all.mjs --update-md`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, ROOT, fmt, table } from './lib/common.mjs';

const MD = path.join(ROOT, 'BENCHMARKS.md');

/** The latest full run of a bench if there is one (it has the 10 M / 1 M figures), else the latest run. */
function load(name) {
  for (const f of [`${name}.full.json`, `${name}.json`]) {
    try {
      return JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8'));
    } catch {}
  }
  return null;
}

function stdoutOf(name) {
  try {
    return fs.readFileSync(path.join(RESULTS_DIR, `${name}.stdout.txt`), 'utf8').trim();
  } catch {
    return null;
  }
}

function runLine(r) {
  const m = r.machine ?? {};
  return `_Run ${m.date ?? '?'} (${r.quick ? '`--quick`' : 'full'})${r.params ? `; parameters: \`${JSON.stringify(r.params)}\`` : ''}._`;
}

/**
 * A bench's section: its tables if it wrote any, else its printed output; null when the bench has
 * not run here, so the section keeps the figures it holds (results are not committed, and one
 * bench rerun must not wipe the others' figures).
 */
function section(name) {
  const r = load(name);
  if (!r) {
    const out = stdoutOf(name);
    return out ? '```\n' + out + '\n```' : null;
  }
  if (r.skipped) return `${runLine(r)}\n\n_Skipped: ${r.skipped}._`;
  const tables = r.tables && typeof r.tables === 'object' ? Object.values(r.tables).filter((t) => typeof t === 'string') : [];
  if (tables.length) return [runLine(r), ...tables].join('\n\n');
  const out = stdoutOf(name);
  return [runLine(r), out ? '```\n' + out + '\n```' : '```json\n' + JSON.stringify(r, null, 2).slice(0, 4000) + '\n```'].join('\n\n');
}

function machineSection() {
  const r = load('run-all') ?? load('gateway-overhead') ?? load('usage-log');
  if (!r) return null;
  const m = r.machine;
  return table(
    ['machine', ''],
    [
      ['date (UTC)', m.date],
      ['CPU', `${m.cpu} × ${m.nproc} (nproc)`],
      ['memory', `${m.mem_gb} GB`],
      ['Node.js', m.node],
      ['OS', m.os],
      ['pinning', m.pinned ? `load generator on CPU ${m.pinned.client}, servers on CPU ${m.pinned.servers} (taskset)` : 'none'],
      ['mode', r.quick ? '--quick' : 'full'],
    ],
    { left: true },
  );
}

const v = (x, unit = '') => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${fmt(x)}${unit}`);
const verdict = (b) => (b === null || b === undefined ? 'not measured in this run' : b ? 'met' : '**missed**');

/** The rows of the targets table as it stands in the file, by target. */
function currentTargetRows(md) {
  const block = md.match(/<!-- bench:targets -->([\s\S]*?)<!-- \/bench:targets -->/)?.[1] ?? '';
  const rows = new Map();
  for (const line of block.split('\n').slice(3)) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length === 3) rows.set(cells[0], cells);
  }
  return rows;
}

function targetsSection(md) {
  const before = currentTargetRows(md);
  const go = load('gateway-overhead');
  const soak = load('soak-rss');
  const usage = load('usage-log');
  const budget = load('budget-check');
  const dash = load('dashboard');
  const p = go?.results?.ptui;
  const pk = go?.results?.portkey;
  const rows = [];
  rows.push([
    'added p50 at c=1, pipeline on ≤ 0.3 ms',
    p ? `chat ${v(p.added_us.chat.c1_p50, ' µs')}, stream ${v(p.added_us.stream.c1_p50, ' µs')}` : '–',
    verdict(go?.targets_met?.added_p50_c1_le_300us),
  ]);
  rows.push([
    'req/s at c=16, pipeline on ≥ 5× Portkey',
    p && pk ? `${v(p.rps_c16)} vs ${v(pk.rps_c16)} (${p.rps_c16 && pk.rps_c16 ? fmt(p.rps_c16 / pk.rps_c16, 1) : '–'}×)` : '–',
    verdict(go?.targets_met?.rps_c16_ge_5x_portkey),
  ]);
  rows.push([
    'RSS ≤ 100 MB after 1 M requests, flat from 100 k',
    soak?.samples
      ? soak.total_requests > 100_000
        ? `${v(soak.rss_100k_mb, ' MB')} at 100 k → ${v(soak.rss_end_mb, ' MB')} at ${fmt(soak.total_requests / 1e6, 1)} M`
        : `${v(soak.rss_end_mb, ' MB')} at ${fmt(soak.total_requests / 1000, 0)} k (the 1 M soak runs without --quick)`
      : '–',
    soak?.targets_met?.rss_le_100mb_after_1m == null
      ? verdict(null)
      : `≤ 100 MB: ${verdict(soak.targets_met.rss_le_100mb_after_1m)}; flat: ${verdict(soak.targets_met.flat_100k_to_1m_within_10pct)}` +
        (soak.live_heap_end_mb ? ` (live heap ${fmt(soak.live_heap_end_mb, 1)} MB)` : ''),
  ]);
  const fl = go?.results?.floor;
  const x = (a, b) => (typeof a === 'number' && typeof b === 'number' && b ? `${fmt(a / b, 2)}×` : '–');
  rows.push([
    'added p50 at c=1 ≤ 1.3× the floor proxy\'s (chat, stream)',
    p && fl ? `chat ${v(p.added_us.chat.c1_p50, ' µs')} (${x(p.added_us.chat.c1_p50, fl.added_us.chat.c1_p50)}), stream ${v(p.added_us.stream.c1_p50, ' µs')} (${x(p.added_us.stream.c1_p50, fl.added_us.stream.c1_p50)})` : '–',
    verdict(go?.targets_met?.added_c1_le_1_3x_floor),
  ]);
  const df = go?.results?.durable_floor;
  if (p && fl && df) {
    // no target: what the usage log's rule costs by itself, for reading the row above
    rows.push([
      'reference: the durable floor (parse + a usage-log row before each end), added p50 at c=1',
      `chat ${v(df.added_us.chat.c1_p50, ' µs')} (${x(df.added_us.chat.c1_p50, fl.added_us.chat.c1_p50)} the floor's; ptui ${x(p.added_us.chat.c1_p50, df.added_us.chat.c1_p50)} of it), ` +
        `stream ${v(df.added_us.stream.c1_p50, ' µs')} (${x(df.added_us.stream.c1_p50, fl.added_us.stream.c1_p50)}; ptui ${x(p.added_us.stream.c1_p50, df.added_us.stream.c1_p50)})`,
      'no target',
    ]);
  }
  rows.push([
    'added TTFT p50 at c=1 ≤ 1.3× the floor proxy\'s',
    p && fl ? `${v(p.added_us.ttft.c1_p50, ' µs')} vs ${v(fl.added_us.ttft.c1_p50, ' µs')} (${x(p.added_us.ttft.c1_p50, fl.added_us.ttft.c1_p50)})` : '–',
    verdict(go?.targets_met?.added_ttft_c1_le_1_3x_floor),
  ]);
  rows.push([
    'req/s at c=16 ≥ 0.8× the floor proxy\'s and ≥ 8× Portkey',
    p && fl ? `${v(p.rps_c16)} vs ${v(fl.rps_c16)} (${x(p.rps_c16, fl.rps_c16)}); Portkey ${pk ? `${v(pk.rps_c16)} (${x(p.rps_c16, pk.rps_c16)})` : '–'}` : '–',
    verdict(go?.targets_met?.rps_c16_ge_0_8x_floor_and_8x_portkey),
  ]);
  rows.push([
    'RSS under the same load ≤ 1.1× the floor proxy\'s',
    p && fl ? `${v(p.rss_mb, ' MB')} vs ${v(fl.rss_mb, ' MB')} (${x(p.rss_mb, fl.rss_mb)}, median after each round)` : '–',
    verdict(go?.targets_met?.rss_le_1_1x_floor),
  ]);
  rows.push([
    'RSS after the soak ≤ 1.1× the floor proxy\'s under the same load',
    soak?.floor_rss_end_mb ? `${v(soak.rss_end_mb, ' MB')} vs ${v(soak.floor_rss_end_mb, ' MB')} (${x(soak.rss_end_mb, soak.floor_rss_end_mb)}, after ${soak.total_requests >= 1e6 ? `${fmt(soak.total_requests / 1e6, 0)} M` : `${fmt(soak.total_requests / 1000, 0)} k`} requests)` : '–',
    verdict(soak?.targets_met?.rss_le_1_1x_floor_at_end),
  ]);
  rows.push([
    'keys, rate limits and engines on: ≤ +10 % over the pipeline alone',
    go?.tables?.features ? 'see "with a key, rate limits and engine scraping" below' : '–',
    verdict(go?.targets_met?.features_within_10pct),
  ]);
  rows.push(['added TTFT ≤ 1 ms', p ? v(p.added_us.ttft.c1_p50, ' µs') + ' (p50, c=1)' : '–', verdict(go?.targets_met?.added_ttft_le_1ms)]);
  const big = usage?.params ? Math.max(...usage.params.sizes) : null;
  const q = big ? usage.sizes?.[big]?.queries : null;
  const dashQ = q ? Object.entries(q).filter(([, x]) => x.kind === 'dashboard') : [];
  rows.push([
    'tail query and aggregates ≤ 5 ms at 10 M rows',
    dashQ.length ? `worst ${v(Math.max(...dashQ.map(([, x]) => x.median_ms)), ' ms')} at ${fmt(big / 1e6, 0)} M rows` : '–',
    verdict(usage?.targets_met?.queries_le_5ms_at_10m),
  ]);
  rows.push(['budget seeding < 1 s at 10 M rows', q?.seed ? `${v(q.seed.median_ms, ' ms')} at ${fmt(big / 1e6, 0)} M rows` : '–', verdict(usage?.targets_met?.seeding_lt_1s_at_10m)]);
  const LABELS = {
    idle_cpu_pct: ['dashboard idle ≤ 1.5 % of one core', ' % of one core'],
    render_ms_per_frame: ['dashboard Ink render ≤ 5 ms a frame', ' ms a frame'],
    first_frame_ms: ['dashboard first frame ≤ 500 ms', ' ms (median)'],
    busy_render_ms_per_frame: ['dashboard render ≤ 5 ms a frame on a 10 M-row log with 200 rows/s', ' ms a frame'],
    busy_first_frame_ms: ['dashboard first frame ≤ 500 ms on a 10 M-row log', ' ms (median)'],
  };
  for (const [name, r] of [['budget-check', budget], ['dashboard', dash]]) {
    for (const [k, met] of Object.entries(r?.targets_met ?? {})) {
      const [label, unit] = LABELS[k] ?? [`${name}: ${k}`, ''];
      rows.push([label, r.measured?.[k] !== undefined ? `${fmt(r.measured[k])}${unit}` : 'see section', verdict(met)]);
    }
  }
  if (!dash) {
    const kept = [...before.values()].filter(([label]) => label.startsWith('dashboard'));
    rows.push(...(kept.length ? kept : [['dashboard ≤ 1.5 % of a core idle, ≤ 5 ms a frame, first frame ≤ 500 ms', '–', 'not measured in this run']]));
  }
  const sm = load('stream-memory');
  rows.push([
    'memory per open stream ≤ 1.5× the floor proxy\'s',
    sm ? `${v(sm.results.ptui.kb_per_stream, ' KB')} vs ${v(sm.results.floor.kb_per_stream, ' KB')} (${fmt(sm.ratio_ptui_to_floor, 2)}×, ${sm.params.streams} streams)` : '–',
    verdict(sm?.targets_met?.per_stream_le_1_5x_floor),
  ]);
  const gs = load('guardrail-scan');
  rows.push([
    'guardrail scan of every string ≤ 1.10× the content-only scan (100 KB English chat)',
    gs?.measured ? `${fmt(gs.measured.ratio_english, 2)}×` : '–',
    verdict(gs?.targets_met?.every_string_le_1_1x_content),
  ]);
  // a target whose bench did not run here keeps the row the file holds
  const kept = rows.map((r) => (r[2] === verdict(null) && before.has(r[0]) ? before.get(r[0]) : r));
  return table(['target', 'measured', 'verdict'], kept, { left: true });
}

export function updateBenchmarksMd() {
  let md = fs.readFileSync(MD, 'utf8');
  const gen = {
    machine: machineSection,
    targets: () => targetsSection(md),
    'gateway-overhead': () => section('gateway-overhead'),
    'soak-rss': () => section('soak-rss'),
    'usage-log': () => section('usage-log'),
    'budget-check': () => section('budget-check'),
    dashboard: () => section('dashboard'),
    'stream-memory': () => section('stream-memory'),
    'guardrail-scan': () => section('guardrail-scan'),
  };
  for (const [name, fn] of Object.entries(gen)) {
    const re = new RegExp(`(<!-- bench:${name} -->)[\\s\\S]*?(<!-- /bench:${name} -->)`);
    const text = re.test(md) ? fn() : null;
    if (text !== null) md = md.replace(re, (_m, a, b) => `${a}\n\n${text}\n\n${b}`);
  }
  fs.writeFileSync(MD, md);
  return MD;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`updated ${updateBenchmarksMd()}`);
}
