// The console's gateway: adopt the one the runtime dir records once it proves it is ours, or
// start `ptui gateway` in its own session (it outlives the console) with its output appended
// to runtime/logs/gateway.log; stand aside for another program on the port, naming it. While
// the console runs, a gateway that dies is started again with backoff (1 s doubling to 30 s,
// reset once it has stayed up). Quitting leaves the gateway serving unless stopOnExit.
import type { ChildProcess } from 'node:child_process';
import type { GatewayChildState } from './state.js';
import { baseUrl, probeGateway, type ProbeResult } from './probe.js';
import { ValueStore, sameData } from '../../system/store.js';
import { readTail } from './logTail.js';
import { describeOwner, findPortOwner } from './portOwner.js';
import { appendLog, processGone, spawnGateway, terminate } from './process.js';

export interface SupervisorOptions {
  host: string;
  port: number;
  /** false: never start one (--no-gateway); a recorded gateway that proves itself is still shown */
  spawn: boolean;
  /** argv after process.execPath: the ptui entry point and `gateway` with its options */
  args: string[];
  logFile: string;
  /** where the gateway records itself (pid, port, instance secret) */
  runtimeDir: string;
  /** quitting (or a hangup, or a crash) stops the gateway too: the demo, --stop-gateway-on-exit */
  stopOnExit?: boolean;
  env?: NodeJS.ProcessEnv;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** a gateway that stayed up this long resets the backoff */
  stableAfterMs?: number;
  /** health check and port re-probe period */
  checkEveryMs?: number;
  probeTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL */
  stopTimeoutMs?: number;
}

const LOG_TAIL_BYTES = 4096;
const STARTUP_POLL_MS = 200;
const STARTUP_TIMEOUT_MS = 30_000;

/** The last line the gateway logged, as a short reason for the panel ("config_invalid: …"). */
export function lastLogReason(logFile: string): string | null {
  const text = readTail(logFile, LOG_TAIL_BYTES);
  if (text === null) return null;
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.includes('"event":"supervisor_'));
  const last = lines[lines.length - 1];
  if (!last) return null;
  try {
    const o = JSON.parse(last) as Record<string, unknown>;
    const detail = o.error ?? o.message ?? o.reason;
    return `${String(o.event ?? o.level ?? 'log')}${detail ? `: ${String(detail)}` : ''}`.slice(0, 200);
  } catch {
    return last.trim().slice(0, 200);
  }
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit ${code}`;
}

export class GatewaySupervisor extends ValueStore<GatewayChildState> {
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableAfterMs: number;
  private readonly probeTimeoutMs: number;
  /** the gateway this console started, while it runs (its 'exit' tells us when it ends) */
  private child: ChildProcess | null = null;
  /** the pid of the gateway that last proved it is ours */
  private serving: number | null = null;
  private proven = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private checking = false;
  private launching = false;
  private stopped = false;
  /** how many gateway processes this supervisor started (tests read it) */
  spawnCount = 0;

  constructor(private readonly opts: SupervisorOptions) {
    super(
      {
        mode: opts.spawn ? 'probing' : 'disabled',
        host: opts.host,
        port: opts.port,
        pid: null,
        adopted: false,
        startedAt: null,
        restarts: 0,
        nextRestartAt: null,
        lastExit: null,
        message: null,
        health: null,
        version: null,
      },
      sameData,
    );
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.stableAfterMs = opts.stableAfterMs ?? 30_000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 1000;
    this.backoffMs = this.initialBackoffMs;
  }

  get url(): string {
    return baseUrl(this.opts.host, this.opts.port);
  }

  /** The gateway's URL while it proves it is ours; null otherwise: nothing else gets a credential. */
  get trustedUrl(): string | null {
    return this.proven && this.getSnapshot().mode === 'running' ? this.url : null;
  }

  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  private patch(p: Partial<GatewayChildState>): void {
    this.set({ ...this.getSnapshot(), ...p });
  }

  private probe(): Promise<ProbeResult> {
    return probeGateway(this.opts.host, this.opts.port, { runtimeDir: this.opts.runtimeDir, timeoutMs: this.probeTimeoutMs });
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.checkTimer = setInterval(() => void this.check(), this.opts.checkEveryMs ?? 2000);
    this.checkTimer.unref();
    if (this.opts.spawn) await this.launch();
    else await this.check();
  }

  /** Probe the port, then adopt, stand aside, or start one. */
  private async launch(): Promise<void> {
    if (this.launching || this.stopped || this.child) return;
    this.launching = true;
    try {
      this.patch({ mode: 'probing', nextRestartAt: null });
      const probe = await this.probe();
      if (this.stopped) return;
      if (probe.kind === 'ours') this.markRunning(probe);
      else if (probe.kind !== 'free') this.standAside(probe);
      else if (this.opts.spawn) this.startGateway();
      else this.patch({ mode: 'disabled', pid: null, adopted: false, startedAt: null, health: null, message: null });
    } finally {
      this.launching = false;
    }
  }

  private standAside(probe: Exclude<ProbeResult, { kind: 'ours' } | { kind: 'free' }>): void {
    this.proven = false;
    this.serving = null;
    const owner = findPortOwner(this.opts.port);
    // the headline says "port N held by another program"; this says who and why it is not ours
    const why = probe.kind === 'unproven' ? `not ours: ${probe.why}` : probe.detail;
    this.patch({ mode: 'port-taken', pid: owner?.pid ?? null, adopted: false, startedAt: null, health: null, message: `${describeOwner(owner)}: ${why}` });
  }

  private markRunning(probe: Extract<ProbeResult, { kind: 'ours' }>): void {
    const { health, record } = probe;
    this.proven = true;
    this.serving = record.pid;
    this.patch({
      mode: 'running',
      pid: record.pid,
      adopted: this.child?.pid !== record.pid,
      startedAt: Date.parse(record.started_at),
      health: health.status,
      shared: health.shared ?? null,
      version: health.version,
      message: health.configError ? `config error: ${health.configError}` : null,
      nextRestartAt: null,
    });
  }

  private startGateway(): void {
    let child: ChildProcess;
    try {
      child = spawnGateway(this.opts.args, this.opts.logFile, this.opts.env ?? process.env);
    } catch (e) {
      this.patch({ mode: 'stopped', message: `cannot start the gateway: ${(e as Error).message}` });
      return;
    }
    this.spawnCount++;
    this.child = child;
    const startedAt = Date.now();
    appendLog(this.opts.logFile, { event: 'supervisor_spawn', pid: child.pid ?? null });
    this.patch({ mode: 'starting', pid: child.pid ?? null, adopted: false, startedAt, health: null, message: null, nextRestartAt: null });
    child.once('exit', (code, signal) => this.onChildExit(child, startedAt, describeExit(code, signal)));
    // a failed spawn: 'exit' may not follow, so treat it as one
    child.once('error', (e) => this.onChildExit(child, startedAt, e.message));
    void this.watchStartup(child);
  }

  /** Probe quickly while it starts, so 'running' shows as soon as it proves itself. */
  private async watchStartup(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (this.child === child && this.getSnapshot().mode === 'starting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, STARTUP_POLL_MS).unref());
      if (this.child !== child || this.stopped) return;
      const probe = await this.probe();
      if (probe.kind === 'ours' && probe.record.pid === child.pid && this.child === child) this.markRunning(probe);
    }
  }

  private onChildExit(child: ChildProcess, startedAt: number, how: string): void {
    if (this.child !== child) return;
    this.child = null;
    appendLog(this.opts.logFile, { event: 'supervisor_exit', pid: child.pid ?? null, how });
    if (this.serving === child.pid) this.serving = null;
    this.onGone(startedAt, how);
  }

  /** The gateway ended (ours exited, or an adopted pid is gone): start again after the backoff. */
  private onGone(startedAt: number | null, how: string): void {
    this.proven = false;
    if (this.stopped || !this.opts.spawn) {
      this.patch({ mode: this.stopped ? 'stopped' : 'disabled', pid: null, adopted: false, lastExit: how, health: null });
      return;
    }
    if (startedAt !== null && Date.now() - startedAt >= this.stableAfterMs) this.backoffMs = this.initialBackoffMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    const reason = lastLogReason(this.opts.logFile);
    this.patch({ mode: 'restarting', pid: null, adopted: false, health: null, nextRestartAt: Date.now() + delay, lastExit: reason ? `${how}: ${reason}` : how, message: null });
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.patch({ restarts: this.getSnapshot().restarts + 1 });
      void this.launch();
    }, delay);
  }

  /** Periodic: is the gateway still there and still ours; has a taken port come free. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped || this.launching) return;
    this.checking = true;
    try {
      const s = this.getSnapshot();
      if (s.mode === 'running' && this.serving !== null && this.child?.pid !== this.serving && processGone(this.serving)) {
        const pid = this.serving;
        this.serving = null;
        this.onGone(s.startedAt, `pid ${pid} is gone`);
        return;
      }
      if (s.mode !== 'running' && s.mode !== 'port-taken' && s.mode !== 'disabled') return;
      const probe = await this.probe();
      if (this.stopped || this.getSnapshot().mode !== s.mode) return;
      if (probe.kind === 'ours') this.markRunning(probe);
      else if (s.mode === 'running') {
        this.proven = false;
        this.patch({ health: null, message: probe.kind === 'unproven' ? `no longer proves it is ours: ${probe.why}` : 'not answering GET /health' });
      } else if (probe.kind === 'free') {
        if (this.opts.spawn) await this.launch();
        else this.patch({ mode: 'disabled', pid: null, startedAt: null, health: null, message: null });
      } else this.standAside(probe);
    } finally {
      this.checking = false;
    }
  }

  /** `R`: stop the gateway (ours or adopted) and start a new one now, without backoff. */
  async restart(): Promise<string> {
    const s = this.getSnapshot();
    if (!this.opts.spawn) return 'gateway supervision is off (--no-gateway)';
    if (s.mode === 'port-taken') return `port ${this.opts.port} is held by another program: nothing of ours to restart`;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    this.backoffMs = this.initialBackoffMs;
    const pid = this.serving ?? this.child?.pid ?? null;
    // forget it first, so its exit is not taken for a crash
    this.child = null;
    this.serving = null;
    this.proven = false;
    this.patch({ mode: 'stopping' });
    if (pid !== null) await terminate(pid, this.opts.stopTimeoutMs ?? 12_000);
    this.patch({ restarts: s.restarts + 1 });
    await this.launch();
    return 'gateway restarted';
  }

  /** On quit: leave the gateway serving, or stop it (SIGTERM, it drains) when stopOnExit. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const pid = this.serving ?? this.child?.pid ?? null;
    if (!this.opts.stopOnExit || pid === null) return;
    this.patch({ mode: 'stopping' });
    await terminate(pid, this.opts.stopTimeoutMs ?? 12_000);
    this.patch({ mode: 'stopped', pid: null });
  }

  /** Synchronous last resort for a crashing console: SIGTERM the gateway only when stopOnExit. */
  killNow(): void {
    this.stopped = true;
    this.clearTimers();
    const pid = this.serving ?? this.child?.pid ?? null;
    if (this.opts.stopOnExit && pid !== null && !processGone(pid)) process.kill(pid, 'SIGTERM');
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.restartTimer = null;
    this.checkTimer = null;
  }
}
