// Services collector: the systemd state of each configured provider's unit (one
// `systemctl show` per tick for all units), its health probe, its GPU memory, and the
// start/stop/restart actions and journal, for configured units only.
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import { execa } from 'execa';
import type { ResolvedConfig } from '../config/load.js';
import { ParentCache } from './proctree.js';
import {
  SERVICE_VERBS,
  actionArgs,
  journalFollowArgs,
  parseShowOutput,
  runShow,
  showArgs,
  unitProperties,
  type SystemctlScope,
} from './systemctl.js';
import type {
  GpuProcess,
  HealthResult,
  ServiceActionResult,
  ServiceState,
  ServicesState,
  ServiceVerb,
} from './types.js';
import type { Store } from './store.js';

export const SYSTEMD_UNAVAILABLE = 'systemd unavailable: service actions disabled';
export const DEFAULT_SYSTEMD_DIR = '/run/systemd/system';

export interface ServiceSpec {
  provider: string;
  unit: string;
  healthUrl?: string;
}

export interface ServicesMonitorOptions {
  services: ServiceSpec[];
  scope?: SystemctlScope;
  refreshMs?: number;
  /** environment for systemctl/journalctl (PATH) and PTUI_SYSTEMD_DIR */
  env?: NodeJS.ProcessEnv;
  healthTimeoutMs?: number;
  /** latest GPU compute apps, for attributing GPU memory to units */
  gpuProcesses?: () => GpuProcess[];
  procRoot?: string;
}

export type ServicesListener = (state: ServicesState) => void;

/** The units of the config, in config order: every provider that names a `service`. */
export function servicesFromConfig(config: Pick<ResolvedConfig, 'providers'>): ServiceSpec[] {
  const out: ServiceSpec[] = [];
  for (const [provider, p] of Object.entries(config.providers)) {
    if (p.service) out.push({ provider, unit: p.service, healthUrl: p.health_url });
  }
  return out;
}

/**
 * The systemd runtime directory exists only when systemd is PID 1; PTUI_SYSTEMD_DIR
 * overrides the path so tests can point it at a directory that is (or is not) there.
 */
export function systemdDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PTUI_SYSTEMD_DIR || DEFAULT_SYSTEMD_DIR;
}

function firstLine(text: string | undefined): string | null {
  const line = (text ?? '').split('\n').find((l) => l.trim() !== '');
  return line ? line.trim() : null;
}

/** What a command printed, whole but bounded: at most 200 lines of at most 2,000 characters. */
function outputLines(...texts: Array<string | undefined>): string[] {
  const lines = texts.flatMap((t) => (t ?? '').split('\n')).filter((l) => l.trim() !== '');
  return lines.slice(0, 200).map((l) => (l.length > 2000 ? `${l.slice(0, 2000)}…` : l.trimEnd()));
}

function emptyState(spec: ServiceSpec): ServiceState {
  return {
    provider: spec.provider,
    unit: spec.unit,
    loadState: null,
    activeState: null,
    subState: null,
    mainPid: null,
    since: null,
    health: spec.healthUrl ? 'fail' : 'none',
    healthDetail: spec.healthUrl ? 'not probed yet' : null,
    gpuMemMiB: null,
    error: null,
  };
}

export class ServicesMonitor extends EventEmitter implements Store<ServicesState> {
  readonly scope: SystemctlScope;
  readonly refreshMs: number;
  private readonly specs: ServiceSpec[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly healthTimeoutMs: number;
  private readonly gpuProcesses: () => GpuProcess[];
  private readonly procRoot: string;

  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private systemdAvailable = false;
  private notice: string | null = null;
  private readonly states: ServiceState[];
  /** the last failed action per unit index, shown until the unit's state changes or an action succeeds */
  private readonly actionErrors: Array<{ message: string; seenState?: string | null } | null>;

  constructor(opts: ServicesMonitorOptions) {
    super();
    this.specs = opts.services;
    this.scope = opts.scope ?? 'system';
    this.refreshMs = Math.max(200, opts.refreshMs ?? 1000);
    this.env = { ...(opts.env ?? process.env), LC_ALL: 'C' };
    this.healthTimeoutMs = opts.healthTimeoutMs ?? Math.min(2000, Math.max(500, this.refreshMs * 2));
    this.gpuProcesses = opts.gpuProcesses ?? (() => []);
    this.procRoot = opts.procRoot ?? '/proc';
    this.states = this.specs.map(emptyState);
    this.actionErrors = this.specs.map(() => null);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
    this.timer = setInterval(() => {
      // A slow systemctl or health probe must not pile up ticks behind it.
      if (!this.inFlight) void this.refresh();
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  subscribe(listener: ServicesListener): () => void {
    this.on('update', listener);
    return () => this.off('update', listener);
  }

  getSnapshot(): ServicesState {
    return {
      systemdAvailable: this.systemdAvailable,
      notice: this.notice,
      services: this.states.map((s) => ({ ...s })),
    };
  }

  /** One refresh now (waits for one already running, then runs another so it sees fresh state). */
  async refresh(): Promise<ServicesState> {
    while (this.inFlight) await this.inFlight;
    this.inFlight = this.collect().finally(() => {
      this.inFlight = null;
    });
    await this.inFlight;
    return this.getSnapshot();
  }

  isConfigured(unit: string): boolean {
    return this.specs.some((s) => s.unit === unit);
  }

  async runServiceAction(unit: string, verb: ServiceVerb, scope: SystemctlScope = this.scope): Promise<ServiceActionResult> {
    const argv = ['systemctl', ...actionArgs(verb, unit, scope)];
    const refuse = (message: string): ServiceActionResult => ({ ok: false, unit, verb, argv: [], message });
    if (!SERVICE_VERBS.includes(verb)) return refuse(`unknown action "${String(verb)}"`);
    if (!this.isConfigured(unit)) return refuse(`${unit} is not a configured service: refused`);
    if (!this.systemdAvailable) {
      await this.refresh();
      if (!this.systemdAvailable) return refuse(this.notice ?? SYSTEMD_UNAVAILABLE);
    }
    const r = await execa(argv[0], argv.slice(1), {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 120_000,
      stdin: 'ignore',
    });
    const ok = r.exitCode === 0 && !r.failed;
    const message = ok
      ? `${verb} ${unit}: done`
      : (firstLine(r.stderr) ?? (r.timedOut ? `systemctl ${verb} ${unit} timed out` : `systemctl exited with code ${r.exitCode ?? r.signal}`));
    const index = this.specs.findIndex((s) => s.unit === unit);
    this.actionErrors[index] = ok ? null : { message };
    await this.refresh();
    const state = this.states[index];
    const after = state?.activeState ? ` (now ${state.activeState}${state.subState ? `/${state.subState}` : ''})` : '';
    return { ok, unit, verb, argv, message: ok ? message + after : message, output: outputLines(r.stderr, r.stdout) };
  }

  /** What follows a configured unit's journal (the journal view runs it while open), or why not. */
  journalFollowCommand(unit: string, scope: SystemctlScope = this.scope): { argv: string[]; env: NodeJS.ProcessEnv } | { error: string } {
    if (!this.isConfigured(unit)) return { error: `${unit} is not a configured service: refused` };
    return { argv: ['journalctl', ...journalFollowArgs(unit, scope)], env: this.env };
  }

  private async collect(): Promise<void> {
    const dirPresent = fs.existsSync(systemdDir(this.env));
    await Promise.all([dirPresent ? this.collectSystemd() : this.markSystemdUnavailable(), this.probeAll()]);
    this.attributeGpuMemory();
    this.emitUpdate();
  }

  private async markSystemdUnavailable(): Promise<void> {
    this.systemdAvailable = false;
    this.notice = SYSTEMD_UNAVAILABLE;
    for (const s of this.states) {
      Object.assign(s, { loadState: null, activeState: null, subState: null, mainPid: null, since: null, error: null });
    }
  }

  private async collectSystemd(): Promise<void> {
    if (this.specs.length === 0) {
      this.systemdAvailable = true;
      this.notice = null;
      return;
    }
    const units = this.specs.map((s) => s.unit);
    const r = await runShow(showArgs(units, this.scope), this.env, 10_000);
    if (r.notFound) {
      await this.markSystemdUnavailable();
      return;
    }
    this.systemdAvailable = true;
    this.notice = null;
    const blocks = r.exitCode === 0 ? parseShowOutput(r.stdout) : [];
    const failure =
      r.exitCode !== 0
        ? (firstLine(r.stderr) ?? `systemctl show exited with code ${r.exitCode ?? r.signal}`)
        : blocks.length !== units.length
          ? `systemctl show printed ${blocks.length} blocks for ${units.length} units`
          : null;
    this.states.forEach((state, i) => {
      if (failure) {
        Object.assign(state, { loadState: null, activeState: null, subState: null, mainPid: null, since: null, error: failure });
        return;
      }
      const props = unitProperties(blocks[i]);
      // An action's error stays on screen until the unit's state moves on from what the
      // first refresh after the action saw (a failed restart itself moves it to "failed").
      const actionError = this.actionErrors[i];
      if (actionError) {
        if (actionError.seenState === undefined) actionError.seenState = props.activeState;
        else if (actionError.seenState !== props.activeState) this.actionErrors[i] = null;
      }
      Object.assign(state, props);
      state.error = props.loadState === 'not-found' ? `Unit ${state.unit} not found.` : (this.actionErrors[i]?.message ?? null);
    });
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      this.specs.map(async (spec, i) => {
        const { health, detail } = await this.probe(spec.healthUrl);
        this.states[i].health = health;
        this.states[i].healthDetail = detail;
      }),
    );
  }

  private async probe(url: string | undefined): Promise<{ health: HealthResult; detail: string | null }> {
    if (!url) return { health: 'none', detail: null };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.healthTimeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return res.ok ? { health: 'ok', detail: `HTTP ${res.status}` } : { health: 'fail', detail: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') return { health: 'fail', detail: `no answer in ${this.healthTimeoutMs} ms` };
      return { health: 'fail', detail: e.cause?.code ?? e.message };
    }
  }

  private attributeGpuMemory(): void {
    const processes = this.gpuProcesses();
    const byRoot = new Map<number, number>();
    const roots = new Set<number>();
    for (const s of this.states) if (s.mainPid) roots.add(s.mainPid);
    const cache = new ParentCache(this.procRoot);
    const counted = new Set<number>();
    if (roots.size > 0) {
      for (const p of processes) {
        const root = cache.findRoot(p.pid, roots);
        if (root === null) continue;
        counted.add(root);
        byRoot.set(root, (byRoot.get(root) ?? 0) + (p.usedMemMiB ?? 0));
      }
    }
    for (const s of this.states) {
      s.gpuMemMiB = s.mainPid && counted.has(s.mainPid) ? (byRoot.get(s.mainPid) ?? 0) : null;
    }
  }

  private emitUpdate(): void {
    this.emit('update', this.getSnapshot());
  }
}
