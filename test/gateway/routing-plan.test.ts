import { describe, expect, it } from 'vitest';
import type { ResolvedModel } from '../../src/config/load.js';
import type { Provider } from '../../src/config/schema.js';
import type { EngineLoad } from '../../src/engines/monitor.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { planAttempts } from '../../src/gateway/routing/plan.js';
import { ProviderStates } from '../../src/gateway/routing/provider-state.js';

const provider = (extra: Partial<Provider> = {}): Provider => ({ type: 'openai-compatible', api_base: 'http://127.0.0.1:1/v1', timeout_s: 600, ...extra }) as Provider;
const model = (routing: 'ordered' | 'balanced', targets: string[], fallbacks: string[] = []): ResolvedModel => ({
  name: 'm',
  capability: 'chat',
  routing,
  targets: targets.map((p) => ({ provider: p, model: `${p}-model` })),
  fallbacks: fallbacks.map((p) => ({ provider: p, model: `${p}-model` })),
});
const load = (waiting: number | null, kvUsage: number | null = null): EngineLoad => ({ up: true, waiting, running: 0, kvUsage });

function setup(providers: Record<string, Provider>, loads: Record<string, EngineLoad> = {}) {
  const states = new ProviderStates();
  const inputs = (now = 0) => ({ states, providers, engineLoad: (p: string) => loads[p], now });
  return { states, inputs };
}
const order = (p: { attempts: { provider: string }[] }) => p.attempts.map((t) => t.provider);

describe('planAttempts', () => {
  it('ordered: targets in order, then fallbacks', () => {
    const { inputs } = setup({ a: provider(), b: provider(), c: provider() });
    expect(order(planAttempts(model('ordered', ['a', 'b'], ['c']), inputs()))).toEqual(['a', 'b', 'c']);
  });

  it('balanced: equal loads alternate; fewer outstanding and a shorter engine queue win', () => {
    const loads: Record<string, EngineLoad> = {};
    const { states, inputs } = setup({ a: provider(), b: provider() }, loads);
    const m = model('balanced', ['a', 'b']);
    const firsts = Array.from({ length: 10 }, () => order(planAttempts(m, inputs()))[0]);
    expect(firsts.filter((p) => p === 'a')).toHaveLength(5);
    states.begin('a');
    expect(order(planAttempts(m, inputs()))).toEqual(['b', 'a']);
    expect(order(planAttempts(m, inputs()))).toEqual(['b', 'a']);
    loads.b = load(3);
    expect(order(planAttempts(m, inputs()))).toEqual(['a', 'b']);
  });

  it('balanced: a saturated engine is passed over while another can serve, and comes last', () => {
    const loads = { a: load(9), b: load(0, 0.99), c: load(0) };
    const sat = { saturation: { max_waiting: 8, max_kv_usage: 0.95 } };
    const { inputs } = setup({ a: provider(sat), b: provider(sat), c: provider(sat) }, loads);
    const p = planAttempts(model('balanced', ['a', 'b', 'c']), inputs());
    expect(order(p)).toEqual(['c', 'a', 'b']);
    expect(p.note).toBeNull();
  });

  it('balanced: every target saturated is served anyway, in order, and says so', () => {
    const sat = { saturation: { max_waiting: 1 } };
    const { inputs } = setup({ a: provider(sat), b: provider(sat) }, { a: load(5), b: load(1) });
    const p = planAttempts(model('balanced', ['a', 'b']), inputs());
    expect(order(p)).toEqual(['a', 'b']);
    expect(p.note).toBe('every target was passed over (a saturated, b saturated); served anyway in order');
  });

  it('ordered mode ignores saturation (it is a balancing rule)', () => {
    const sat = { saturation: { max_waiting: 1 } };
    const { inputs } = setup({ a: provider(sat), b: provider(sat) }, { a: load(5), b: load(0) });
    expect(order(planAttempts(model('ordered', ['a', 'b']), inputs()))).toEqual(['a', 'b']);
  });

  it('an engine that is down or reports nothing does not count as saturated', () => {
    const sat = { saturation: { max_waiting: 1, max_kv_usage: 0.5 } };
    const { inputs } = setup({ a: provider(sat), b: provider(sat) }, { a: { up: false, waiting: 9, running: null, kvUsage: 1 }, b: load(null, null) });
    const p = planAttempts(model('balanced', ['a', 'b']), inputs());
    expect(p.note).toBeNull();
    expect(p.attempts).toHaveLength(2);
  });

  it('cooling providers are passed over in both modes, fallbacks first; drained ones get nothing', () => {
    const { states, inputs } = setup({ a: provider(), b: provider(), f: provider() });
    const now = 1000;
    for (let i = 0; i < 3; i++) states.end('a', undefined, 'failure', now);
    expect(states.get('a').state(now)).toBe('cooling_down');
    expect(order(planAttempts(model('ordered', ['a', 'b'], ['f']), inputs(now)))).toEqual(['b', 'f', 'a']);
    expect(order(planAttempts(model('balanced', ['a', 'b'], ['f']), inputs(now)))).toEqual(['b', 'f', 'a']);
    states.setDrained('b', true);
    expect(order(planAttempts(model('ordered', ['a', 'b'], ['f']), inputs(now)))).toEqual(['f', 'a']);
  });

  it('every target drained: 503 naming them', () => {
    const { states, inputs } = setup({ a: provider(), b: provider() });
    states.setDrained('a', true);
    states.setDrained('b', true);
    let err: unknown;
    try {
      planAttempts(model('balanced', ['a', 'b']), inputs());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(503);
    expect((err as GatewayError).message).toContain('drained (a, b)');
  });
});

describe('ProviderStates cool-down', () => {
  it('starts after N consecutive failures, doubles up to 5 minutes, and a success resets it', () => {
    const states = new ProviderStates();
    const events: number[] = [];
    states.onCooldown = (e) => events.push(e.seconds);
    const p = provider({ cooldown: { failures: 2, seconds: 100 } });
    let now = 0;
    const fail = () => states.end('a', p, 'failure', now);
    fail();
    expect(states.get('a').cooling(now)).toBe(false);
    fail();
    expect(states.get('a').cooling(now)).toBe(true);
    fail(); // during the cool-down: no extension
    expect(events).toEqual([100]);
    now += 100_001;
    fail();
    now += 200_001;
    fail();
    now += 300_001;
    fail();
    expect(events).toEqual([100, 200, 300, 300]);
    states.end('a', p, 'success', now);
    expect(states.get('a')).toMatchObject({ consecutiveFailures: 0, streak: 0, coolUntil: 0 });
    fail();
    expect(states.get('a').cooling(now)).toBe(false);
  });

  it('a neutral end (4xx, 429, client gone) neither counts nor resets', () => {
    const states = new ProviderStates();
    states.begin('a');
    states.end('a', undefined, 'failure', 0);
    states.begin('a');
    states.end('a', undefined, 'neutral', 0);
    expect(states.get('a')).toMatchObject({ inFlight: 0, consecutiveFailures: 1 });
  });

  it('draining while requests are in flight, drained once they end', () => {
    const states = new ProviderStates();
    states.begin('a');
    states.setDrained('a', true);
    expect(states.get('a').state(0)).toBe('draining');
    states.end('a', undefined, 'success', 0);
    expect(states.get('a').state(0)).toBe('drained');
  });
});
