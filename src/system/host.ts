// Host collector: CPU, memory, disk of the runtime dir and load. Chosen for cost per tick
// (measured on the dev box, 2 vCPU, node 20): si.currentLoad runs `execSync('cat /proc/stat
// | grep cpu')` on Linux (a blocking shell per tick, ~3.5 ms CPU in children), so CPU comes
// from os.cpus() deltas (0.06 ms); si.mem reads /proc/meminfo without spawning but parses
// every field through a lower-casing search per field (0.5 ms), so on Linux the two figures
// shown are read from /proc/meminfo here (0.02 ms, the same rules), and si is loaded only
// where there is no /proc; si.fsSize spawns `df` (5.6 ms), so the disk comes from
// fs.statfsSync (0.003 ms) on the runtime dir itself, whose filesystem is by definition the
// one holding it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { emptyHostState, type HostState } from './types.js';
import type { Store } from './store.js';

export interface HostMonitorOptions {
  /** the directory whose filesystem the Disk line shows (the runtime dir) */
  diskPath: string;
  refreshMs?: number;
  mountInfoFile?: string;
  meminfoFile?: string;
}

export type HostListener = (state: HostState) => void;

/**
 * Total and available memory (bytes) from /proc/meminfo, by systeminformation's rules: the
 * kernel's MemAvailable, or on kernels without it free + buffers + page cache + slab.
 */
export function parseMeminfo(text: string): { total: number; available: number } | null {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1], Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  if (!total) return null;
  const available = kb.get('MemAvailable') || (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0) + (kb.get('Slab') ?? 0);
  return { total, available };
}

/** /proc/meminfo where there is one (Linux), else systeminformation (loaded on first use). */
async function readMemory(meminfoFile: string): Promise<{ total: number; available: number } | null> {
  let text: string | null = null;
  try {
    text = fs.readFileSync(meminfoFile, 'utf8');
  } catch {
    // no /proc: ask systeminformation
  }
  if (text !== null) return parseMeminfo(text);
  const { default: si } = await import('systeminformation');
  return si.mem().catch(() => null);
}

/** The longest mount point that is a prefix of `target`, from /proc/self/mountinfo. */
export function mountPointFor(target: string, mountInfo: string): string {
  let best = '/';
  for (const line of mountInfo.split('\n')) {
    // field 5 is the mount point, with spaces and the like escaped as \040 (octal)
    const raw = line.split(' ')[4];
    if (!raw) continue;
    const mount = raw.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    const prefix = mount.endsWith('/') ? mount : mount + '/';
    if ((target === mount || target.startsWith(prefix)) && mount.length > best.length) best = mount;
  }
  return best;
}

/** The path itself, or its nearest existing ancestor: the runtime dir may not exist yet. */
function existingAncestor(p: string): string {
  let current = path.resolve(p);
  for (;;) {
    try {
      return fs.realpathSync(current);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

export class HostMonitor extends EventEmitter implements Store<HostState> {
  readonly refreshMs: number;
  private readonly target: string;
  private readonly mountInfoFile: string;
  private readonly meminfoFile: string;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private state: HostState;
  private lastCpu: { busy: number; total: number } | null = null;

  constructor(opts: HostMonitorOptions) {
    super();
    this.refreshMs = Math.max(200, opts.refreshMs ?? 1000);
    this.target = opts.diskPath;
    this.mountInfoFile = opts.mountInfoFile ?? '/proc/self/mountinfo';
    this.meminfoFile = opts.meminfoFile ?? '/proc/meminfo';
    this.state = emptyHostState(opts.diskPath);
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.refresh();
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  subscribe(listener: HostListener): () => void {
    this.on('update', listener);
    return () => this.off('update', listener);
  }

  getSnapshot(): HostState {
    return { ...this.state };
  }

  async refresh(): Promise<HostState> {
    this.inFlight = true;
    try {
      const mem = await readMemory(this.meminfoFile).catch(() => null);
      const [load1, load5, load15] = os.loadavg();
      const disk = this.disk();
      const cpus = os.cpus();
      this.state = {
        cpuPct: this.cpuPct(cpus),
        cores: cpus.length,
        // "available" (MemAvailable) is what the kernel can hand out; page cache is not "used".
        memUsedBytes: mem ? mem.total - mem.available : null,
        memTotalBytes: mem ? mem.total : null,
        diskPath: disk.mount,
        diskUsedBytes: disk.used,
        diskTotalBytes: disk.total,
        load1: round2(load1),
        load5: round2(load5),
        load15: round2(load15),
        updatedAt: Date.now(),
      };
      this.emit('update', this.getSnapshot());
      return this.getSnapshot();
    } finally {
      this.inFlight = false;
    }
  }

  /** Busy share of all cores since the previous tick; null on the first (no interval yet). */
  private cpuPct(cpus: os.CpuInfo[]): number | null {
    let busy = 0;
    let total = 0;
    for (const c of cpus) {
      const t = c.times;
      const all = t.user + t.nice + t.sys + t.idle + t.irq;
      total += all;
      busy += all - t.idle;
    }
    const prev = this.lastCpu;
    if (!prev) {
      this.lastCpu = { busy, total };
      return null;
    }
    // Ticks closer together than the kernel's accounting step: keep the last figure.
    if (total <= prev.total) return this.state.cpuPct;
    this.lastCpu = { busy, total };
    return round1(Math.min(100, Math.max(0, (100 * (busy - prev.busy)) / (total - prev.total))));
  }

  private disk(): { mount: string; used: number | null; total: number | null } {
    const existing = existingAncestor(this.target);
    let mount = existing;
    try {
      mount = mountPointFor(existing, fs.readFileSync(this.mountInfoFile, 'utf8'));
    } catch {
      // no /proc (not Linux): show the path itself
    }
    try {
      const st = fs.statfsSync(existing);
      const total = st.blocks * st.bsize;
      // used as df counts it: total minus free (bfree), reserved blocks included in used.
      return { mount, used: total - st.bfree * st.bsize, total };
    } catch {
      return { mount, used: null, total: null };
    }
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
