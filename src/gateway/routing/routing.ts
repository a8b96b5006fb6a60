// The gateway's routing state in one place: provider states (in flight, cool-downs, drains) and
// the engine monitor's live figures, joined for the request path (plan) and the operator's view
// (GET /admin/providers, /health/targets).
import type { ResolvedConfig, ResolvedModel } from '../../config/load.js';
import type { Target } from '../../config/schema.js';
import type { EngineMonitor } from '../../engines/monitor.js';
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { Logger } from '../log.js';
import { planAttempts, saturated, type Plan } from './plan.js';
import { ProviderStates } from './provider-state.js';

export class Routing {
  readonly states = new ProviderStates();

  constructor(
    readonly engines: EngineMonitor,
    log: Logger,
  ) {
    this.states.onCooldown = (e) => log.warn('provider_cooled_down', { provider: e.provider, consecutive_failures: e.failures, seconds: e.seconds });
    this.states.onRecovered = (provider) => log.info('provider_recovered', { provider });
  }

  plan(model: ResolvedModel, config: ResolvedConfig, candidates: Target[]): Plan {
    return planAttempts(model, { states: this.states, providers: config.providers, engineLoad: (p) => this.engines.load(p), now: performance.now() }, candidates);
  }

  view(name: string, config: ResolvedConfig, now = performance.now()): ProviderRoutingView {
    const s = this.states.get(name);
    const load = this.engines.load(name);
    const p = config.providers[name];
    return {
      name,
      state: s.state(now),
      in_flight: s.inFlight,
      consecutive_failures: s.consecutiveFailures,
      cooldown_s_left: s.cooling(now) ? Math.ceil((s.coolUntil - now) / 100) / 10 : null,
      saturated: p?.saturation && load?.up ? saturated(p, load) : null,
      engine: load ? { up: load.up, running: load.running, waiting: load.waiting, kv_usage: load.kvUsage } : null,
    };
  }

  views(config: ResolvedConfig): ProviderRoutingView[] {
    const now = performance.now();
    return Object.keys(config.providers).map((n) => this.view(n, config, now));
  }
}
