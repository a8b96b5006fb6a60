#!/usr/bin/env node
// Dashboard cost: time to the first frame, and CPU % (of one core) and RSS of an idle `ptui`
// at the default refresh, with the fake nvidia-smi, systemctl and journalctl on PATH (two
// GPUs, two units) and the gateway child running. The dashboard runs in a real terminal
// (tmux), because Ink draws nothing to a pipe the way it draws to a terminal.
//
//   node bench/dashboard.mjs            # 60 s idle window, 7 first-frame runs
//   node bench/dashboard.mjs --quick    # 10 s, 3 runs
//   node bench/dashboard.mjs --refresh-ms 500
//
// CPU is read from /proc/<pid>/stat (utime+stime) of the dashboard process alone: its children
// (the gateway, and the fakes, which are Node scripts and far heavier than the real C tools)
// are reported on their own lines, not added in. Needs a build (npm run build) and tmux.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QUICK, ROOT, freePort, log, median, numFlag, rssMb, sleep, table, writeResult } from './lib/common.mjs';

const WINDOW_S = numFlag('window-s', QUICK ? 10 : 60);
const RUNS = numFlag('runs', QUICK ? 3 : 7);
const REFRESH_MS = numFlag('refresh-ms', 1000);
const SETTLE_MS = 5000;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const FAKE_BIN = path.join(ROOT, 'test', 'fixtures', 'bin');
const PTUI = path.join(ROOT, 'bin', 'ptui');

function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

function childrenOf(pid) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function makeHome() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bench-dash-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(home, 'config'), { recursive: true });
  const state = path.join(home, 'systemd');
  fs.mkdirSync(state);
  fs.writeFileSync(path.join(state, 'vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: process.pid }));
  fs.writeFileSync(path.join(state, 'ollama.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', MainPID: 0 }));
  return { home, state };
}

function startDashboard(socket, home, state, port) {
  const env = {
    PATH: `${FAKE_BIN}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    TERM: 'screen-256color',
    PTUI_SYSTEMD_DIR: state,
    FAKE_SYSTEMD_STATE: state,
    PTUI_RENDER_STATS: path.join(home, 'render-stats.json'),
  };
  const argv = ['exec', '/usr/bin/env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, PTUI, '--home', home, '--port', String(port), '--refresh-ms', String(REFRESH_MS)];
  const t0 = performance.now();
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', '-s', 'main', argv.join(' ')]);
  return t0;
}

const tmux = (socket, ...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

async function firstFrameMs(socket, t0) {
  for (;;) {
    const screen = tmux(socket, 'capture-pane', '-p', '-t', 'main');
    if (screen.includes('6 Requests')) return performance.now() - t0;
    if (performance.now() - t0 > 15_000) throw new Error(`no frame after 15 s:\n${screen}`);
    await sleep(5);
  }
}

async function stop(socket, pid) {
  try {
    tmux(socket, 'send-keys', '-t', 'main', 'q');
    for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`); i++) await sleep(50);
  } finally {
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // the session ended with the dashboard
    }
  }
}

const { home, state } = makeHome();
const loadAtStart = os.loadavg();
const frames = [];
let idle;
try {
  for (let i = 0; i < RUNS; i++) {
    const socket = `ptui-bench-${process.pid}-${i}`;
    const port = await freePort();
    const t0 = startDashboard(socket, home, state, port);
    frames.push(await firstFrameMs(socket, t0));
    const pid = Number(tmux(socket, 'display-message', '-p', '-t', 'main', '#{pane_pid}').trim());
    if (i === RUNS - 1) {
      log(`first frames: ${frames.map((f) => f.toFixed(0)).join(', ')} ms; idle window ${WINDOW_S} s after ${SETTLE_MS / 1000} s settle`);
      await sleep(SETTLE_MS);
      const gateway = childrenOf(pid).find((c) => cmdline(c).includes(' gateway'));
      const before = { at: performance.now(), dash: cpuTicks(pid), gw: gateway ? cpuTicks(gateway) : 0 };
      const rss = [];
      const gwRss = [];
      const end = performance.now() + WINDOW_S * 1000;
      while (performance.now() < end) {
        rss.push(rssMb(pid));
        if (gateway) gwRss.push(rssMb(gateway));
        await sleep(1000);
      }
      const seconds = (performance.now() - before.at) / 1000;
      const dashCpu = ((cpuTicks(pid) - before.dash) / CLK_TCK / seconds) * 100;
      const gwCpu = gateway ? ((cpuTicks(gateway) - before.gw) / CLK_TCK / seconds) * 100 : null;
      idle = {
        seconds,
        dashboard_cpu_pct: dashCpu,
        dashboard_rss_mb_median: median(rss.filter((x) => x !== null)),
        dashboard_rss_mb_max: Math.max(...rss.filter((x) => x !== null)),
        gateway_cpu_pct: gwCpu,
        gateway_rss_mb_median: gwRss.length ? median(gwRss) : null,
        stats_children: childrenOf(pid)
          .map(cmdline)
          .filter((c) => c.includes('nvidia-smi') && c.includes('-lms')).length,
      };
    }
    await stop(socket, pid);
    if (i === RUNS - 1) {
      // written on quit: frames over the whole session of the last run (settle + window)
      const rs = JSON.parse(fs.readFileSync(path.join(home, 'render-stats.json'), 'utf8'));
      idle.frames_per_s = rs.frames / rs.seconds;
      idle.render_ms_per_frame = rs.renderMs / rs.frames;
    }
  }
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}

const firstFrame = { median_ms: median(frames), max_ms: Math.max(...frames), runs: frames.length };
const measured = {
  idle_cpu_pct: Number(idle.dashboard_cpu_pct.toFixed(2)),
  first_frame_ms: Math.round(firstFrame.median_ms),
};
const summary = table(
  ['measure', 'value'],
  [
    ['idle CPU of the dashboard process (% of one core)', `${idle.dashboard_cpu_pct.toFixed(2)} % over ${idle.seconds.toFixed(0)} s`],
    ['RSS of the dashboard (median / max)', `${idle.dashboard_rss_mb_median.toFixed(1)} / ${idle.dashboard_rss_mb_max.toFixed(1)} MB`],
    ['first frame (median / max of runs)', `${firstFrame.median_ms.toFixed(0)} / ${firstFrame.max_ms.toFixed(0)} ms (${frames.length} runs)`],
    ['GPU-stats children (nvidia-smi -lms)', String(idle.stats_children)],
    ['gateway child idle CPU / RSS (for reference)', idle.gateway_cpu_pct === null ? '–' : `${idle.gateway_cpu_pct.toFixed(2)} % / ${idle.gateway_rss_mb_median.toFixed(1)} MB`],
    ['refresh', `${REFRESH_MS} ms`],
    ['frames drawn while idle', idle.frames_per_s === null ? '–' : `${idle.frames_per_s.toFixed(2)} /s, ${idle.render_ms_per_frame.toFixed(1)} ms of Ink render each`],
    ['load average at the start (other work on the box)', loadAtStart.map((l) => l.toFixed(2)).join(' ')],
  ],
  { left: true },
);
console.log(summary);
const file = writeResult('dashboard', {
  params: { window_s: WINDOW_S, runs: RUNS, refresh_ms: REFRESH_MS },
  idle,
  first_frame: { ...firstFrame, all_ms: frames.map((f) => Math.round(f)) },
  measured,
  targets_met: { idle_cpu_pct: idle.dashboard_cpu_pct <= 3, first_frame_ms: firstFrame.median_ms <= 700 },
  tables: { summary },
});
log(`wrote ${file}`);
