// GPU collector: ONE long-running `nvidia-smi --query-gpu=… -lms <ms>` child for the whole
// session (spawning a process per tick costs ~30 ms of CPU each on a busy driver), restarted
// with backoff when it dies, plus a short `--query-compute-apps` run that never overlaps the
// previous one: once the stream first answers, then every appsIntervalMs, and at once when asked
// (refreshApps, after a service was started or stopped: when the process list changes).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { GpuProcess, GpuSample, GpuState } from './types.js';
import {
  LineSplitter,
  computeAppsArgs,
  gpuStreamArgs,
  parseComputeApps,
  parseGpuLine,
  type GpuReading,
} from './nvidia-smi.js';
import type { Store } from './store.js';
import { isDue } from './due.js';

export const NVIDIA_SMI_NOT_FOUND = 'nvidia-smi not found: no GPU panel';
export const NVIDIA_DRIVER_NOT_LOADED = 'NVIDIA driver not loaded (nvidia-smi exit 9)';

export interface GpuMonitorOptions {
  refreshMs?: number;
  /**
   * How often --query-compute-apps runs (default: refreshMs). Each run is a fresh nvidia-smi
   * that initialises NVML; the console raises this to its unit rhythm and asks at once after
   * a service action, since processes come and go with the services.
   */
  appsIntervalMs?: number;
  /** samples kept per GPU for the sparkline */
  historyLength?: number;
  /** executable name or path; resolved on PATH like any command */
  command?: string;
  env?: NodeJS.ProcessEnv;
  /** first restart delay after the stats child dies or falls silent; doubles up to maxBackoffMs */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export type GpuListener = (state: GpuState) => void;

interface GpuEntry {
  reading: GpuReading;
  utilHistory: number[];
  memHistory: number[];
  lastSeen: number;
}

/** Text for an exit of the stats child; 9 is the one operators hit after a driver update. */
export function describeNvidiaSmiExit(code: number | null, signal: string | null, detail: string | null): string {
  if (code === 9) return NVIDIA_DRIVER_NOT_LOADED;
  const how = code !== null ? `exit ${code}` : `killed by ${signal ?? 'unknown signal'}`;
  return detail ? `nvidia-smi failed (${how}): ${detail}` : `nvidia-smi failed (${how})`;
}

/**
 * Node keeps the handle of a spawn that failed (ENOENT: no nvidia-smi) with no pid, and
 * `kill()` on it signals pid 0: the whole process group, shell and npm included.
 */
function killSpawned(child: ChildProcess | null, signal: NodeJS.Signals): void {
  if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
}

export class GpuMonitor extends EventEmitter implements Store<GpuState> {
  readonly refreshMs: number;
  readonly appsIntervalMs: number;
  private readonly historyLength: number;
  private readonly command: string;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  private running = false;
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private appsTimer: NodeJS.Timeout | null = null;
  private appsChild: ChildProcess | null = null;
  private emitScheduled = false;
  /** the first compute-apps query waits for the stream's first sample (the driver answers) */
  private appsQueried = false;
  private appsQueriedAt = 0;
  private backoffMs: number;

  private readonly gpus = new Map<string, GpuEntry>();
  private processes: GpuProcess[] = [];
  private available = false;
  private notice: string | null = null;
  private updatedAt: number | null = null;
  private lastSampleAt = 0;
  /** how many stats children were spawned: restarts are this minus one */
  spawnCount = 0;

  constructor(opts: GpuMonitorOptions = {}) {
    super();
    this.refreshMs = Math.max(100, Math.round(opts.refreshMs ?? 1000));
    this.appsIntervalMs = Math.max(this.refreshMs, Math.round(opts.appsIntervalMs ?? this.refreshMs));
    this.historyLength = opts.historyLength ?? 60;
    this.command = opts.command ?? 'nvidia-smi';
    this.env = opts.env;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.backoffMs = this.initialBackoffMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.spawnStream();
    this.appsTimer = setInterval(() => this.tick(), this.refreshMs);
    this.appsTimer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.appsTimer) clearInterval(this.appsTimer);
    this.restartTimer = null;
    this.appsTimer = null;
    killSpawned(this.child, 'SIGTERM');
    killSpawned(this.appsChild, 'SIGTERM');
    this.child = null;
    this.appsChild = null;
  }

  /** Calls listener on every change; returns the unsubscribe function. */
  subscribe(listener: GpuListener): () => void {
    this.on('update', listener);
    return () => this.off('update', listener);
  }

  /** pid of the running stats child, for tests and the UI's debug line. */
  get streamPid(): number | null {
    return this.child?.pid ?? null;
  }

  getSnapshot(): GpuState {
    const gpus: GpuSample[] = [...this.gpus.values()]
      .sort((a, b) => a.reading.index - b.reading.index)
      .map((e) => ({ ...e.reading, utilHistory: [...e.utilHistory], memHistory: [...e.memHistory] }));
    return {
      available: this.available,
      notice: this.notice,
      gpus,
      processes: this.processes.map((p) => ({ ...p })),
      updatedAt: this.updatedAt,
    };
  }

  private spawnStream(): void {
    if (!this.running) return;
    this.spawnCount++;
    let child: ChildProcess;
    try {
      child = spawn(this.command, gpuStreamArgs(this.refreshMs), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.env,
      });
    } catch (err) {
      this.onStreamFailed(err as NodeJS.ErrnoException);
      return;
    }
    this.child = child;
    const splitter = new LineSplitter();
    let firstStderr: string | null = null;
    let firstOtherStdout: string | null = null;
    let spawnError: NodeJS.ErrnoException | null = null;

    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) {
        if (!this.ingestLine(line) && firstOtherStdout === null && line.trim() !== '') firstOtherStdout = line.trim();
      }
    });
    child.stderr!.on('data', (chunk: string) => {
      if (firstStderr === null) {
        const line = chunk.split('\n').find((l) => l.trim() !== '');
        if (line) firstStderr = line.trim();
      }
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      for (const line of splitter.flush()) this.ingestLine(line);
      if (this.child === child) this.child = null;
      if (!this.running) return;
      if (spawnError) this.onStreamFailed(spawnError);
      else this.onStreamExit(code, signal, firstStderr ?? firstOtherStdout);
    });
  }

  /** true when the line was a GPU row. */
  private ingestLine(line: string): boolean {
    const reading = parseGpuLine(line);
    if (!reading) return false;
    const now = Date.now();
    let entry = this.gpus.get(reading.uuid);
    if (!entry) {
      entry = { reading, utilHistory: [], memHistory: [], lastSeen: now };
      this.gpus.set(reading.uuid, entry);
    }
    entry.reading = reading;
    entry.lastSeen = now;
    pushBounded(entry.utilHistory, reading.utilPct ?? 0, this.historyLength);
    pushBounded(entry.memHistory, reading.memUsedMiB ?? 0, this.historyLength);
    this.available = true;
    this.notice = null;
    this.updatedAt = now;
    this.lastSampleAt = now;
    this.backoffMs = this.initialBackoffMs;
    if (!this.appsQueried) setImmediate(() => this.pollApps());
    this.appsQueried = true;
    this.scheduleEmit();
    return true;
  }

  private onStreamFailed(err: NodeJS.ErrnoException): void {
    const notice = err.code === 'ENOENT' ? NVIDIA_SMI_NOT_FOUND : `nvidia-smi could not start: ${err.message}`;
    this.markUnavailable(notice);
    this.scheduleRestart();
  }

  private onStreamExit(code: number | null, signal: NodeJS.Signals | null, detail: string | null): void {
    this.markUnavailable(describeNvidiaSmiExit(code, signal, detail));
    this.scheduleRestart();
  }

  // Stale numbers on screen would lie about the GPUs, so a dead stream clears them; the
  // histories go too, which keeps a sparkline from joining samples across a gap.
  private markUnavailable(notice: string): void {
    this.available = false;
    this.notice = notice;
    this.gpus.clear();
    this.processes = [];
    this.updatedAt = Date.now();
    this.scheduleEmit();
  }

  private scheduleRestart(): void {
    if (!this.running || this.restartTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.spawnStream();
    }, delay);
    this.restartTimer.unref();
  }

  /** Query the compute apps now (unless a query is under way): the process list changed. */
  refreshApps(): void {
    this.pollApps();
  }

  /** Every refresh: a silent stream or a vanished GPU is noticed; the apps query when it is due. */
  private tick(): void {
    this.checkStalled();
    if (!this.running || !this.available) return;
    this.dropVanishedGpus();
    if (isDue(this.appsQueriedAt, this.appsIntervalMs, Date.now())) this.pollApps();
  }

  private pollApps(): void {
    // Only while the stream says the driver answers; never two queries at once.
    if (!this.running || !this.available || this.appsChild) return;
    this.appsQueriedAt = Date.now();
    const child = execFile(
      this.command,
      computeAppsArgs(),
      { env: this.env, timeout: Math.max(5000, this.refreshMs * 5), encoding: 'utf8', maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (this.appsChild === child) this.appsChild = null;
        if (!this.running) return;
        const next = err ? [] : parseComputeApps(stdout);
        if (!sameProcesses(this.processes, next)) {
          this.processes = next;
          this.scheduleEmit();
        }
      },
    );
    this.appsChild = child;
  }

  // A hung driver leaves nvidia-smi alive but silent: the last numbers would stay on screen
  // as if current. After a few missed loops the stream counts as dead and is restarted.
  private checkStalled(): void {
    if (!this.available || !this.child) return;
    const silentMs = Date.now() - this.lastSampleAt;
    if (silentMs < Math.max(5000, this.refreshMs * 5)) return;
    const child = this.child;
    this.child = null;
    child.removeAllListeners('close');
    killSpawned(child, 'SIGKILL');
    this.markUnavailable(`nvidia-smi stopped answering (no sample for ${Math.round(silentMs / 1000)} s)`);
    this.scheduleRestart();
  }

  // A GPU that stopped reporting while others still do (hot-unplugged, MIG reconfigured)
  // leaves the panel after a few cycles instead of freezing on its last numbers.
  private dropVanishedGpus(): void {
    const cutoff = Date.now() - this.refreshMs * 5;
    for (const [uuid, entry] of this.gpus) {
      if (entry.lastSeen < cutoff) {
        this.gpus.delete(uuid);
        this.scheduleEmit();
      }
    }
  }

  // nvidia-smi prints one line per GPU per loop; coalescing them gives one update per loop.
  private scheduleEmit(): void {
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    setImmediate(() => {
      this.emitScheduled = false;
      this.emit('update', this.getSnapshot());
    });
  }
}

function pushBounded(list: number[], value: number, max: number): void {
  list.push(value);
  if (list.length > max) list.splice(0, list.length - max);
}

function sameProcesses(a: GpuProcess[], b: GpuProcess[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (p, i) => p.pid === b[i].pid && p.gpuUuid === b[i].gpuUuid && p.usedMemMiB === b[i].usedMemMiB && p.name === b[i].name,
  );
}
