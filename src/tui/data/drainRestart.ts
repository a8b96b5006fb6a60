// Drain, then restart, from the console: the gateway stops sending the provider new requests,
// the console watches the gateway's in-flight count and the engine's running count fall to 0
// (a bounded wait, after which the operator decides), restarts the unit, waits until the unit
// is healthy and the gateway has read its engine again, and undrains. A provider that was
// drained before keeps its drain. Every step's I/O comes in `DrainSteps`, so the order and the
// decisions can be followed without a gateway; the real steps are plain HTTP and systemctl.
import type { ResolvedConfig } from '../../config/load.js';
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { EngineStatus } from '../../engines/types.js';
import type { ServiceActionResult, ServiceState } from '../../system/types.js';

/** The gateway's side (data/gatewayAdmin.ts over HTTP). */
export interface ProviderActions {
  drain(provider: string): Promise<ProviderRoutingView>;
  undrain(provider: string): Promise<ProviderRoutingView>;
  /** the operator chose to leave it drained: quitting the console no longer undrains it */
  keepDrained(provider: string): void;
  routing(provider: string): Promise<ProviderRoutingView | null>;
  engine(provider: string): Promise<EngineStatus | null>;
}

export interface DrainSteps extends ProviderActions {
  restart(unit: string): Promise<ServiceActionResult>;
  /** a fresh reading of the unit (systemctl show and its health probe) */
  unit(unit: string): Promise<ServiceState | null>;
  /** a y/n question; resolves with the answer */
  ask(question: string): Promise<boolean>;
  progress(text: string): void;
  pause(ms: number): Promise<void>;
  /** wall-clock ms (scrape times are wall-clock) */
  now(): number;
}

export interface DrainPlan {
  unit: string;
  provider: string;
  /** the gateway reads an engine for this provider: wait until it has read it again */
  hasEngine: boolean;
  drainTimeoutMs: number;
  healthTimeoutMs: number;
  pollMs: number;
}

export const DRAIN_DEFAULTS = { drainTimeoutMs: 30_000, healthTimeoutMs: 60_000, pollMs: 250 } as const;

export interface DrainOutcome {
  ok: boolean;
  message: string;
  /** the operator said no before anything was restarted */
  cancelled?: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "3 in flight · engine running 2"; the engine's count only when it reports one. */
export function drainState(v: ProviderRoutingView): string {
  const running = v.engine?.running;
  return `${v.in_flight} in flight${running === null || running === undefined ? '' : ` · engine running ${running}`}`;
}

/** Nothing of ours in flight and the engine (when it says) running nothing. */
export function drained(v: ProviderRoutingView): boolean {
  return v.in_flight === 0 && !v.engine?.running;
}

/** Why the unit is not ready for traffic yet, or null when it is. */
async function notReady(p: DrainPlan, s: DrainSteps, restartedAt: number): Promise<string | null> {
  const u = await s.unit(p.unit).catch(() => null);
  if (!u) return 'no reading of the unit';
  if (u.activeState !== 'active') return `unit ${u.activeState ?? 'unknown'}${u.subState ? `/${u.subState}` : ''}`;
  if (u.health === 'fail') return `health probe: ${u.healthDetail ?? 'failing'}`;
  if (!p.hasEngine) return null;
  const e = await s.engine(p.provider).catch(() => null);
  if (!e) return 'the gateway reports no engine';
  if (!e.up) return `engine down: ${e.error ?? 'no answer'}`;
  const at = e.scraped_at ? Date.parse(e.scraped_at) : NaN;
  return Number.isFinite(at) && at >= restartedAt ? null : 'waiting for the gateway to read the engine again';
}

export async function drainThenRestart(p: DrainPlan, s: DrainSteps): Promise<DrainOutcome> {
  const { unit, provider } = p;
  const before = await s.routing(provider).catch(() => null);
  const wasDrained = before?.state === 'drained' || before?.state === 'draining';
  let view: ProviderRoutingView;
  try {
    view = await s.drain(provider);
  } catch (e) {
    return { ok: false, message: `drain ${provider}: ${(e as Error).message}; nothing restarted` };
  }
  /** Undrain (unless it was drained before we came); the words for the outcome. */
  const release = async (): Promise<string> => {
    if (wasDrained) {
      s.keepDrained(provider);
      return `${provider} stays drained (it was before)`;
    }
    try {
      await s.undrain(provider);
      return `${provider} undrained`;
    } catch (e) {
      return `undrain ${provider} failed: ${(e as Error).message} (POST /admin/providers/${provider}/undrain)`;
    }
  };

  try {
    return await restartDrained(p, s, view, release);
  } catch (e) {
    return { ok: false, message: `restart ${unit}: ${(e as Error).message}; ${await release()}` };
  }
}

async function restartDrained(p: DrainPlan, s: DrainSteps, drainedView: ProviderRoutingView, release: () => Promise<string>): Promise<DrainOutcome> {
  const { unit, provider } = p;
  let view = drainedView;
  const t0 = s.now();
  for (;;) {
    s.progress(`draining ${provider}: ${drainState(view)} · ${seconds(s.now() - t0)}`);
    if (drained(view)) break;
    if (s.now() - t0 >= p.drainTimeoutMs) {
      const anyway = await s.ask(`${provider} still has ${drainState(view)} after ${seconds(p.drainTimeoutMs)}: restart ${unit} anyway?`);
      if (!anyway) return { ok: false, cancelled: true, message: `restart ${unit}: cancelled; ${await release()}` };
      break;
    }
    await s.pause(p.pollMs);
    view = (await s.routing(provider).catch(() => null)) ?? view;
  }
  const drainMs = s.now() - t0;

  s.progress(`restarting ${unit} (${provider} drained)…`);
  const result = await s.restart(unit).catch((e: Error): ServiceActionResult => ({ ok: false, unit, verb: 'restart', argv: [], message: e.message }));
  if (!result.ok) return { ok: false, message: `${result.message}; ${await release()}` };

  const restartedAt = s.now();
  for (;;) {
    const why = await notReady(p, s, restartedAt);
    if (why === null) break;
    if (s.now() - restartedAt >= p.healthTimeoutMs) {
      const anyway = await s.ask(`${unit} not ready after ${seconds(p.healthTimeoutMs)} (${why}): undrain ${provider} anyway?`);
      if (anyway) break;
      s.keepDrained(provider);
      return { ok: false, message: `restart ${unit}: ${provider} stays drained: ${why}` };
    }
    s.progress(`restarted ${unit}; waiting until it is ready: ${why}`);
    await s.pause(p.pollMs);
  }
  const readyMs = s.now() - restartedAt;
  return { ok: true, message: `restart ${unit}: done (drained in ${seconds(drainMs)}, ready in ${seconds(readyMs)}); ${await release()}` };
}

/** Every model that routes to `provider` ("gpt-4 (target 1 of 2)"), and those it alone serves. */
export function providerRoutes(config: ResolvedConfig | undefined, provider: string): { routes: string[]; only: string[] } {
  const routes: string[] = [];
  const only: string[] = [];
  for (const [name, m] of Object.entries(config?.models ?? {})) {
    const all = [...m.targets, ...(m.fallbacks ?? [])];
    const at = all.findIndex((t) => t.provider === provider);
    if (at < 0) continue;
    routes.push(at < m.targets.length ? `${name} (target ${at + 1} of ${m.targets.length})` : `${name} (fallback)`);
    if (all.every((t) => t.provider === provider)) only.push(name);
  }
  return { routes, only };
}
