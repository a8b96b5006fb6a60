// The gateway child of the dashboard: probe the port first (attach to a ptui gateway that
// already answers, stand aside for another program), else spawn `ptui gateway` with its output
// appended to runtime/logs/gateway.log, and restart it with backoff (1 s doubling to 30 s,
// reset once it has stayed up) whenever it dies. It never touches the screen.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { GatewayChildState } from './state.js';
import { baseUrl, probeGateway, type GatewayHealth } from './probe.js';
import { ValueStore, sameData } from '../../system/store.js';
import { readTail } from './logTail.js';

export interface SupervisorOptions {
  host: string;
  port: number;
  /** false: never spawn (--no-gateway); still shows a gateway that answers on the port */
  spawn: boolean;
  /** argv after process.execPath: the ptui entry point and `gateway` with its options */
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** a child that stayed up this long resets the backoff */
  stableAfterMs?: number;
  /** health check and port re-probe period */
  checkEveryMs?: number;
  probeTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL on quit */
  stopTimeoutMs?: number;
}

const LOG_TAIL_BYTES = 4096;
const STARTUP_POLL_MS = 200;

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
  private readonly checkEveryMs: number;
  private readonly probeTimeoutMs: number;
  private child: ChildProcess | null = null;
  private childExited: Promise<void> | null = null;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private checking = false;
  private launching = false;
  private attachedFailures = 0;
  private stopped = false;
  /** how many gateway processes this supervisor spawned (tests read it) */
  spawnCount = 0;

  constructor(private readonly opts: SupervisorOptions) {
    super(
      {
        mode: opts.spawn ? 'probing' : 'disabled',
        host: opts.host,
        port: opts.port,
        pid: null,
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
    this.checkEveryMs = opts.checkEveryMs ?? 2000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 1000;
    this.backoffMs = this.initialBackoffMs;
  }

  get url(): string {
    return baseUrl(this.opts.host, this.opts.port);
  }

  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  private patch(p: Partial<GatewayChildState>): void {
    this.set({ ...this.getSnapshot(), ...p });
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.checkTimer = setInterval(() => void this.check(), this.checkEveryMs);
    this.checkTimer.unref();
    if (this.opts.spawn) await this.launch();
    else await this.check();
  }

  /** Probe the port, then attach, stand aside, or spawn. */
  private async launch(): Promise<void> {
    if (this.launching || this.stopped || this.child) return;
    this.launching = true;
    try {
      this.patch({ mode: 'probing', nextRestartAt: null });
      const probe = await probeGateway(this.opts.host, this.opts.port, this.probeTimeoutMs);
      if (this.stopped) return;
      if (probe.kind === 'ptui') {
        this.attach(probe.health);
      } else if (probe.kind === 'other') {
        this.patch({ mode: 'port-taken', pid: null, startedAt: null, health: null, message: probe.detail });
      } else {
        this.spawnChild();
      }
    } finally {
      this.launching = false;
    }
  }

  private attach(health: GatewayHealth): void {
    this.attachedFailures = 0;
    this.patch({
      mode: 'attached',
      pid: null,
      startedAt: health.uptimeS !== null ? Date.now() - health.uptimeS * 1000 : Date.now(),
      health: health.status,
      version: health.version,
      message: health.configError ? `config error: ${health.configError}` : null,
    });
  }

  private spawnChild(): void {
    const { logFile } = this.opts;
    let fd: number;
    try {
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      fd = fs.openSync(logFile, 'a');
    } catch (e) {
      this.patch({ mode: 'stopped', message: `cannot open ${logFile}: ${(e as Error).message}` });
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, this.opts.args, { stdio: ['ignore', fd, fd], env: this.opts.env ?? process.env });
    } finally {
      fs.closeSync(fd);
    }
    this.spawnCount++;
    this.child = child;
    const startedAt = Date.now();
    this.appendLog({ event: 'supervisor_spawn', pid: child.pid ?? null });
    this.patch({ mode: 'starting', pid: child.pid ?? null, startedAt, health: null, message: null, nextRestartAt: null });
    void this.watchStartup(child);
    this.childExited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(child, startedAt, code, signal);
      });
    });
    child.once('error', (e) => {
      // spawn failure: 'exit' may not follow, so treat it as one
      if (this.child === child) this.onExit(child, startedAt, null, null, e.message);
    });
  }

  /** Poll /health quickly while the child starts, so 'running' shows as soon as it is true. */
  private async watchStartup(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (this.child === child && this.getSnapshot().mode === 'starting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, STARTUP_POLL_MS).unref());
      if (this.child !== child || this.stopped) return;
      const probe = await probeGateway(this.opts.host, this.opts.port, this.probeTimeoutMs);
      if (probe.kind === 'ptui' && this.child === child) this.markRunning(probe.health);
    }
  }

  private markRunning(health: GatewayHealth): void {
    this.patch({
      mode: 'running',
      health: health.status,
      version: health.version,
      message: health.configError ? `config error: ${health.configError}` : null,
    });
  }

  private onExit(child: ChildProcess, startedAt: number, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.child !== child) return;
    this.child = null;
    const how = error ?? describeExit(code, signal);
    this.appendLog({ event: 'supervisor_exit', pid: child.pid ?? null, how });
    if (this.stopped) {
      this.patch({ mode: 'stopped', pid: null, lastExit: how, health: null });
      return;
    }
    if (Date.now() - startedAt >= this.stableAfterMs) this.backoffMs = this.initialBackoffMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    const reason = lastLogReason(this.opts.logFile);
    this.patch({
      mode: 'restarting',
      pid: null,
      health: null,
      nextRestartAt: Date.now() + delay,
      lastExit: reason ? `${how}: ${reason}` : how,
      message: null,
    });
    this.scheduleRestart(delay);
  }

  private scheduleRestart(delay: number): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.patch({ restarts: this.getSnapshot().restarts + 1 });
      void this.launch();
    }, delay);
  }

  /** Periodic: health of our child or the attached gateway, re-probe of a taken port. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const s = this.getSnapshot();
      if (s.mode === 'starting' || s.mode === 'running') {
        const probe = await probeGateway(this.opts.host, this.opts.port, this.probeTimeoutMs);
        if (!this.child || this.stopped) return;
        if (probe.kind === 'ptui') {
          this.markRunning(probe.health);
        } else if (s.mode === 'running') {
          this.patch({ health: null, message: 'not answering GET /health' });
        }
      } else if (s.mode === 'attached' || s.mode === 'disabled' || s.mode === 'port-taken') {
        const probe = await probeGateway(this.opts.host, this.opts.port, this.probeTimeoutMs);
        if (this.stopped) return;
        if (probe.kind === 'ptui') {
          this.attach(probe.health);
          return;
        }
        if (s.mode === 'attached' && ++this.attachedFailures < 2) return;
        if (this.opts.spawn) {
          if (probe.kind === 'free') await this.launch();
          else this.patch({ mode: 'port-taken', pid: null, health: null, message: probe.detail });
        } else {
          this.patch({ mode: 'disabled', pid: null, startedAt: null, health: null, message: null });
        }
      }
    } finally {
      this.checking = false;
    }
  }

  /** `G`: restart our child now (no backoff), or retry at once when waiting or blocked. */
  async restart(): Promise<string> {
    const s = this.getSnapshot();
    if (!this.opts.spawn) return 'gateway supervision is off (--no-gateway)';
    if (s.mode === 'attached') return 'attached to a gateway this dashboard did not start: restart it where it runs';
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    this.backoffMs = this.initialBackoffMs;
    const child = this.child;
    if (child) {
      // Detach first so the exit is not taken for a crash.
      this.child = null;
      await this.terminate(child);
    }
    this.patch({ restarts: s.restarts + 1 });
    await this.launch();
    return 'gateway restarted';
  }

  private async terminate(child: ChildProcess): Promise<void> {
    // No pid: the spawn failed, and kill() would signal our whole process group (pid 0).
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.opts.stopTimeoutMs ?? 5000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** On quit: SIGTERM the child (it drains in-flight requests), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.restartTimer = null;
    this.checkTimer = null;
    const child = this.child;
    if (child) {
      this.patch({ mode: 'stopping' });
      await this.terminate(child);
      await this.childExited;
    }
  }

  /** Synchronous last resort for a crashing dashboard: SIGTERM the child and forget it. */
  killNow(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.child?.pid !== undefined && this.child.exitCode === null) this.child.kill('SIGTERM');
  }

  private appendLog(fields: Record<string, unknown>): void {
    try {
      fs.appendFileSync(this.opts.logFile, JSON.stringify({ ts: new Date().toISOString(), level: 'info', ...fields }) + '\n');
    } catch {
      // the log is a convenience; supervision goes on without it
    }
  }
}
