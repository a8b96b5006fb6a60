// The drain-first restart's order and decisions, with every step scripted and a clock that
// moves only when the flow pauses: drain, wait for 0 in flight and 0 running, restart, wait until
// the unit is healthy and its engine read again, undrain; the bounded waits that end in a
// question; a failed restart that undrains; a provider drained before that stays drained.
import { describe, expect, it } from 'vitest';
import type { ProviderRoutingView } from '../../src/engines/routing-view.js';
import type { EngineStatus } from '../../src/engines/types.js';
import type { ServiceState } from '../../src/system/types.js';
import { drainThenRestart, drainState, type DrainPlan, type DrainSteps } from '../../src/tui/data/drainRestart.js';

const plan: DrainPlan = { unit: 'vllm.service', provider: 'vllm', hasEngine: true, drainTimeoutMs: 10_000, healthTimeoutMs: 20_000, pollMs: 250 };

const view = (over: Partial<ProviderRoutingView>): ProviderRoutingView => ({
  name: 'vllm', state: 'active', in_flight: 0, consecutive_failures: 0, cooldown_s_left: null, saturated: null,
  engine: { up: true, running: 0, waiting: 0, kv_usage: 0 }, ...over,
});

interface Script {
  before?: ProviderRoutingView;
  /** what each routing poll after the drain answers (the last repeats) */
  polls?: ProviderRoutingView[];
  restartOk?: boolean;
  /** unit readings after the restart (the last repeats) */
  units?: Array<Partial<ServiceState>>;
  /** engine scraped this many ms after the restart returned (null: never up) */
  scrapedAfterMs?: number | null;
  answers?: boolean[];
}

function scripted(s: Script) {
  let clock = 1_000_000;
  let restartedAt = Infinity;
  const calls: string[] = [];
  const questions: string[] = [];
  const progress: string[] = [];
  const polls = [...(s.polls ?? [view({ state: 'drained' })])];
  const units = [...(s.units ?? [{}])];
  const answers = [...(s.answers ?? [])];
  const steps: DrainSteps = {
    drain: async () => {
      calls.push('drain');
      return polls[0];
    },
    undrain: async () => {
      calls.push('undrain');
      return view({});
    },
    keepDrained: () => calls.push('keepDrained'),
    routing: async () => {
      if (!calls.includes('drain')) return s.before ?? view({});
      calls.push('poll');
      return polls.length > 1 ? polls.shift()! : polls[0];
    },
    engine: async (): Promise<EngineStatus | null> => {
      // up all along (the old process until the restart); read again `scrapedAfterMs` after it
      const up = s.scrapedAfterMs !== null;
      const fresh = up && clock >= restartedAt + (s.scrapedAfterMs ?? 0);
      return {
        provider: 'vllm', engine: 'vllm', url: 'u', up, error: up ? null : 'connection refused', warnings: [], scrape_age_s: 0, scrape_ms: 1,
        scraped_at: new Date(fresh ? clock : Math.min(clock, restartedAt) - 5000).toISOString(), gpu_usd_per_hour: null, usd_per_1m_generated_tokens: null,
      };
    },
    restart: async (unit) => {
      calls.push('restart');
      restartedAt = clock;
      const ok = s.restartOk ?? true;
      return { ok, unit, verb: 'restart', argv: [], message: ok ? `restart ${unit}: done` : `Failed to restart ${unit}: Access denied` };
    },
    unit: async (unit) => {
      const u = units.length > 1 ? units.shift()! : units[0];
      return {
        provider: 'vllm', unit, loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 7, since: null, health: 'ok',
        healthDetail: null, gpuMemMiB: null, error: null, ...u,
      };
    },
    ask: async (q) => {
      questions.push(q);
      return answers.shift() ?? false;
    },
    progress: (t) => progress.push(t),
    pause: async (ms) => {
      clock += ms;
    },
    now: () => clock,
  };
  return { steps, calls, questions, progress };
}

describe('drain, then restart (the console’s flow)', () => {
  it('drains, waits for 0 in flight and 0 running, restarts, waits for health and a fresh scrape, undrains', async () => {
    const s = scripted({
      polls: [view({ state: 'draining', in_flight: 3, engine: { up: true, running: 5, waiting: 0, kv_usage: 0.3 } }), view({ state: 'drained', in_flight: 0, engine: { up: true, running: 2, waiting: 0, kv_usage: 0.1 } }), view({ state: 'drained' })],
      units: [{ health: 'fail', healthDetail: 'ECONNREFUSED' }, { health: 'ok' }],
      scrapedAfterMs: 1000,
    });
    const out = await drainThenRestart(plan, s.steps);
    expect(out.ok).toBe(true);
    expect(out.message).toMatch(/^restart vllm\.service: done \(drained in \d+\.\d s, ready in \d+\.\d s\); vllm undrained$/);
    expect(s.calls.filter((c) => c !== 'poll')).toEqual(['drain', 'restart', 'undrain']);
    expect(s.questions).toEqual([]);
    // the counts falling to 0 were shown as they fell
    expect(s.progress).toEqual(expect.arrayContaining([expect.stringContaining('3 in flight · engine running 5'), expect.stringContaining('0 in flight · engine running 2')]));
    expect(s.progress).toEqual(expect.arrayContaining([expect.stringContaining('health probe: ECONNREFUSED'), expect.stringContaining('read the engine again')]));
  });

  it('asks after the bounded wait, and on n undrains without restarting', async () => {
    const s = scripted({ polls: [view({ state: 'draining', in_flight: 1 })], answers: [false] });
    const out = await drainThenRestart(plan, s.steps);
    expect(s.questions).toEqual(['vllm still has 1 in flight · engine running 0 after 10.0 s: restart vllm.service anyway?']);
    expect(s.calls).not.toContain('restart');
    expect(s.calls[s.calls.length - 1]).toBe('undrain');
    expect(out).toEqual({ ok: false, cancelled: true, message: 'restart vllm.service: cancelled; vllm undrained' });
  });

  it('restarts anyway on y', async () => {
    const s = scripted({ polls: [view({ state: 'draining', in_flight: 1 })], answers: [true], scrapedAfterMs: 0 });
    expect((await drainThenRestart(plan, s.steps)).ok).toBe(true);
    expect(s.calls.filter((c) => c !== 'poll')).toEqual(['drain', 'restart', 'undrain']);
  });

  it('undrains after a failed restart and says so', async () => {
    const s = scripted({ restartOk: false });
    const out = await drainThenRestart(plan, s.steps);
    expect(out).toEqual({ ok: false, message: 'Failed to restart vllm.service: Access denied; vllm undrained' });
    expect(s.calls.filter((c) => c !== 'poll')).toEqual(['drain', 'restart', 'undrain']);
  });

  it('leaves it drained when the unit never gets healthy and the operator says n', async () => {
    const s = scripted({ units: [{ activeState: 'failed', subState: 'failed' }], answers: [false] });
    const out = await drainThenRestart(plan, s.steps);
    expect(s.questions).toEqual(['vllm.service not ready after 20.0 s (unit failed/failed): undrain vllm anyway?']);
    expect(s.calls).toContain('keepDrained');
    expect(s.calls).not.toContain('undrain');
    expect(out.message).toBe('restart vllm.service: vllm stays drained: unit failed/failed');
  });

  it('keeps the drain of a provider that was drained before', async () => {
    const s = scripted({ before: view({ state: 'drained' }), scrapedAfterMs: 0 });
    const out = await drainThenRestart(plan, s.steps);
    expect(out.ok).toBe(true);
    expect(out.message).toMatch(/vllm stays drained \(it was before\)$/);
    expect(s.calls).not.toContain('undrain');
  });

  it('restarts nothing when the gateway refuses the drain', async () => {
    const s = scripted({});
    s.steps.drain = async () => {
      throw new Error('POST /admin/providers/vllm/drain: HTTP 401');
    };
    const out = await drainThenRestart(plan, s.steps);
    expect(out).toEqual({ ok: false, message: 'drain vllm: POST /admin/providers/vllm/drain: HTTP 401; nothing restarted' });
    expect(s.calls).toEqual([]);
  });

  it('does not wait on an engine count it does not have', () => {
    expect(drainState(view({ in_flight: 2, engine: null }))).toBe('2 in flight');
  });
});
