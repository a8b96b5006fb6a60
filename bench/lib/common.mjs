// Shared plumbing for the benchmarks: flags, free ports, child servers, RSS, statistics,
// and the table + JSON output every bench script produces. Benchmarks measure; they never assert.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT = path.dirname(BENCH_DIR);
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

export const argv = process.argv.slice(2);
export const QUICK = argv.includes('--quick');

/** `--name value` or `--name=value` from the command line, else the fallback. */
export function flag(name, fallback) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return fallback;
}

export function numFlag(name, fallback) {
  const v = flag(name, undefined);
  return v === undefined ? fallback : Number(v);
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A port that was free a moment ago (listen on 0, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `taskset` can pin us (Linux with util-linux and at least two CPUs). */
export const CPUS = os.availableParallelism?.() ?? os.cpus().length;
export const PIN = CPUS >= 2 && !argv.includes('--no-pin') && fs.existsSync('/usr/bin/taskset');
/** Servers share the last core; the load generator (this process) takes core 0. */
export const SERVER_CPUS = PIN ? String(CPUS - 1) : null;
export const CLIENT_CPUS = PIN ? '0' : null;

/** Pin this process (the load generator) to core 0, away from the servers. */
export function pinSelf() {
  if (!CLIENT_CPUS) return;
  spawnSync('taskset', ['-apc', CLIENT_CPUS, String(process.pid)], { stdio: 'ignore' });
}

const children = new Set();

/**
 * Start a server process (pinned to the server core when pinning), keep its output in a
 * ring of recent lines for error messages, and remember it so that exit kills it.
 */
export function startProcess(name, cmd, args, { env = {}, cwd = ROOT, pin = true } = {}) {
  const [c, a] = pin && SERVER_CPUS ? ['taskset', ['-c', SERVER_CPUS, cmd, ...args]] : [cmd, args];
  const fullEnv = { ...process.env, ...env };
  // undefined means "not set at all", which is not the same as an empty value to a config loader.
  for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k];
  const child = spawn(c, a, { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (buf) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const proc = {
    name,
    child,
    pid: child.pid,
    tail,
    exited: false,
    exitCode: null,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (proc.exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(t);
    },
  };
  child.on('exit', (code, sig) => {
    proc.exited = true;
    proc.exitCode = code ?? sig;
    children.delete(proc);
  });
  children.add(proc);
  return proc;
}

function killAll() {
  for (const p of children) {
    try {
      p.child.kill('SIGKILL');
    } catch {}
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Wait until `url` answers with any HTTP status (or `okStatus` when given). */
export async function waitForHttp(url, proc, { timeoutMs = 30_000, okStatus } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc?.exited) throw new Error(`${proc.name} exited (${proc.exitCode}) before answering:\n${proc.tail.join('\n')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (okStatus === undefined || res.status === okStatus) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err?.cause?.code ?? err);
    }
    await sleep(100);
  }
  throw new Error(`${proc?.name ?? url} did not answer within ${timeoutMs} ms (${last})\n${proc?.tail.join('\n') ?? ''}`);
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS). */
export function rssMb(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Percentile (nearest rank) of an ascending-sorted array. */
export function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values) {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, mean: sum / s.length, p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1] };
}

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(Math.min(digits, 1));
  return v.toFixed(digits);
}

/** A fixed-width text table; also used verbatim (as markdown) in BENCHMARKS.md. */
export function table(headers, rows, { left = false } = {}) {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c == null ? '–' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 || left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 || left ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(headers), sep, ...cells.map(line)].join('\n');
}

export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {}
  return {
    date: new Date().toISOString(),
    nproc: CPUS,
    cpu,
    mem_gb: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    pinned: PIN ? { client: CLIENT_CPUS, servers: SERVER_CPUS } : null,
  };
}

/**
 * Write bench/results/<name>.json (the latest run) and <name>.<quick|full>.json (the latest run
 * of that mode, so a quick run does not hide the last full run's 10 M-row or 1 M-request
 * figures from the report).
 */
export function writeResult(name, data) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const body = { bench: name, quick: QUICK, machine: machine(), ...data };
  const text = JSON.stringify(body, null, 2) + '\n';
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.${QUICK ? 'quick' : 'full'}.json`), text);
  return file;
}

export function log(msg) {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
