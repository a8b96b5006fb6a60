// The order in which one request tries a model's upstreams. Drained providers get no new
// request. Cooling providers (both routing modes) and, in balanced mode, saturated engines are
// passed over while another target can serve now; balanced mode orders the rest by least
// outstanding requests plus the engine's waiting queue, ties taken in turn. Fallbacks follow
// the targets; what was passed over comes last, so nothing fails only for being passed over,
// and a request with nothing else is served by them in config order, with a note saying so.
import type { Provider, Target } from '../../config/schema.js';
import type { ResolvedModel } from '../../config/load.js';
import type { EngineLoad } from '../../engines/monitor.js';
import { GatewayError } from '../errors.js';
import type { ProviderStates } from './provider-state.js';

export interface Plan {
  attempts: Target[];
  /** set when every target was passed over and is served anyway */
  note: string | null;
}

export interface PlanInputs {
  states: ProviderStates;
  providers: Record<string, Provider>;
  engineLoad: (provider: string) => EngineLoad | undefined;
  now: number;
}

type PassReason = 'cooling down' | 'saturated';

export function saturated(p: Provider | undefined, load: EngineLoad | undefined): boolean {
  const sat = p?.saturation;
  if (!sat || !load || !load.up) return false;
  if (sat.max_waiting !== undefined && load.waiting !== null && load.waiting >= sat.max_waiting) return true;
  return sat.max_kv_usage !== undefined && load.kvUsage !== null && load.kvUsage >= sat.max_kv_usage;
}

const turns = new WeakMap<ResolvedModel, number>();

/**
 * `candidates`: the model's targets and then its fallbacks, as the request may still use them
 * (the budgets callback drops providers that may not spend); fallbacks are known by identity.
 */
export function planAttempts(model: ResolvedModel, inputs: PlanInputs, candidates: Target[] = [...model.targets, ...(model.fallbacks ?? [])]): Plan {
  const { states, providers, engineLoad, now } = inputs;
  const balanced = model.routing === 'balanced';
  // One candidate that can serve now (most models, every request): nothing to order or pass over.
  if (candidates.length === 1) {
    const t = candidates[0]!;
    const s = states.get(t.provider);
    if (!s.drained && !s.cooling(now) && !(balanced && saturated(providers[t.provider], engineLoad(t.provider)))) return { attempts: candidates, note: null };
  }
  const passed: Array<{ t: Target; why: PassReason }> = [];
  const drained: string[] = [];
  const split = (list: Target[]): Target[] => {
    const ok: Target[] = [];
    for (const t of list) {
      const s = states.get(t.provider);
      if (s.drained) drained.push(t.provider);
      else if (s.cooling(now)) passed.push({ t, why: 'cooling down' });
      else if (balanced && saturated(providers[t.provider], engineLoad(t.provider))) passed.push({ t, why: 'saturated' });
      else ok.push(t);
    }
    return ok;
  };
  const isFallback = new Set(model.fallbacks ?? []);
  let targets = split(candidates.filter((t) => !isFallback.has(t)));
  const fallbacks = split(candidates.filter((t) => isFallback.has(t)));
  if (balanced && targets.length > 1) targets = byLoad(model, targets, inputs);
  const attempts = [...targets, ...fallbacks, ...passed.map((p) => p.t)];
  if (attempts.length === 0) {
    if (drained.length === 0) return { attempts, note: null };
    const names = [...new Set(drained)].join(', ');
    throw new GatewayError(503, 'no_target_available', `every target of model "${model.name}" is drained (${names}); undrain one with POST /admin/providers/{name}/undrain`);
  }
  let note: string | null = null;
  if (targets.length === 0 && fallbacks.length === 0) {
    const why = [...new Set(passed.map((p) => `${p.t.provider} ${p.why}`))].join(', ');
    note = `every target was passed over (${why}); served anyway in order`;
  }
  return { attempts, note };
}

function byLoad(model: ResolvedModel, list: Target[], { states, engineLoad }: PlanInputs): Target[] {
  const turn = turns.get(model) ?? 0;
  turns.set(model, turn + 1);
  const n = list.length;
  const scored = list.map((t, i) => ({
    t,
    score: states.get(t.provider).inFlight + (engineLoad(t.provider)?.waiting ?? 0),
    // equal loads are taken in turn, so sequential traffic alternates instead of piling on the first
    rank: (i - (turn % n) + n) % n,
  }));
  scored.sort((a, b) => a.score - b.score || a.rank - b.rank);
  return scored.map((s) => s.t);
}
