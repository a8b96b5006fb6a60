#!/usr/bin/env node
// Runs every benchmark in turn (each one its own process, so one's servers and heap never
// colour the next one's figures), passes --quick through, keeps each one's output under
// bench/results/, and prints a one-line summary per bench at the end.
//
//   npm run bench                 # full run (tens of minutes: 10 M-row logs, 1 M-request soak)
//   npm run bench -- --quick      # about 3 minutes
//   node bench/run-all.mjs [--quick] [--only a,b] [--update-md]
//
// --update-md rewrites the generated sections of BENCHMARKS.md from bench/results/*.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, QUICK, RESULTS_DIR, argv, flag, log, machine } from './lib/common.mjs';

/** name, script, and whether it belongs to another module's owner (we only call it). */
const BENCHES = [
  { name: 'gateway-overhead', script: 'gateway-overhead.mjs' },
  { name: 'soak-rss', script: 'soak-rss.mjs' },
  { name: 'usage-log', script: 'usage-log.mjs' },
  { name: 'budget-check', script: 'budget-check.mjs' },
  { name: 'dashboard', script: 'dashboard.mjs' },
  { name: 'shared-mode', script: 'shared-mode.mjs' },
  { name: 'stream-memory', script: 'stream-memory.mjs' },
  { name: 'guardrail-scan', script: 'guardrail-scan.mjs' },
];

const only = flag('only', '')
  .split(',')
  .filter(Boolean);
const passThrough = argv.filter((a) => a === '--quick' || a === '--no-pin' || a === '--no-portkey');

function run(script) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(BENCH_DIR, script), ...passThrough], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code, signal) => resolve({ code: code ?? signal, seconds: (Date.now() - t0) / 1000, out }));
  });
}

const summary = { quick: QUICK, machine: machine(), benches: [] };
const t0 = Date.now();
fs.mkdirSync(RESULTS_DIR, { recursive: true });
for (const b of BENCHES) {
  if (only.length && !only.includes(b.name)) continue;
  const file = path.join(BENCH_DIR, b.script);
  if (!fs.existsSync(file)) {
    log(`${b.name}: bench/${b.script} is missing — skipped`);
    summary.benches.push({ name: b.name, status: 'missing' });
    continue;
  }
  log(`${b.name}: node bench/${b.script} ${passThrough.join(' ')}`);
  const r = await run(b.script);
  fs.writeFileSync(path.join(RESULTS_DIR, `${b.name}.stdout.txt`), r.out);
  summary.benches.push({ name: b.name, status: r.code === 0 ? 'ok' : `failed (exit ${r.code})`, seconds: r.seconds });
}
summary.total_seconds = (Date.now() - t0) / 1000;
fs.writeFileSync(path.join(RESULTS_DIR, 'run-all.json'), JSON.stringify(summary, null, 2) + '\n');

console.log(`\nbench summary (${QUICK ? 'quick' : 'full'}, ${summary.total_seconds.toFixed(0)} s total):`);
for (const b of summary.benches) {
  console.log(`  ${b.name.padEnd(18)} ${b.status}${b.seconds !== undefined ? ` in ${b.seconds.toFixed(1)} s` : ''}`);
}
if (argv.includes('--update-md')) {
  const { updateBenchmarksMd } = await import('./report.mjs');
  log(`updated ${updateBenchmarksMd()}`);
}
process.exitCode = summary.benches.some((b) => b.status.startsWith('failed')) ? 1 : 0;
