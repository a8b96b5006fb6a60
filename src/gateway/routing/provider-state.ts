// Routing state per provider, kept across config reloads: requests in flight, consecutive
// failures and the cool-down they caused, and whether an operator drained it. Cool-downs
// double with each one in a row (at most 5 minutes) and a success ends the run.
import type { Provider } from '../../config/schema.js';

export const DEFAULT_COOLDOWN = { failures: 3, seconds: 10 } as const;
export const MAX_COOLDOWN_S = 300;

export type RoutingStateName = 'active' | 'cooling_down' | 'draining' | 'drained';

export interface CooldownEvent {
  provider: string;
  failures: number;
  seconds: number;
}

export class ProviderState {
  inFlight = 0;
  consecutiveFailures = 0;
  /** performance.now() until which the provider is skipped; 0 = not cooling */
  coolUntil = 0;
  /** cool-downs in a row (the next one lasts seconds × 2^streak) */
  streak = 0;
  drained = false;

  cooling(now: number): boolean {
    return this.coolUntil > now;
  }

  state(now: number): RoutingStateName {
    if (this.drained) return this.inFlight > 0 ? 'draining' : 'drained';
    return this.cooling(now) ? 'cooling_down' : 'active';
  }
}

export class ProviderStates {
  private readonly byName = new Map<string, ProviderState>();
  /** called when a provider starts a cool-down (the gateway logs it) */
  onCooldown: (e: CooldownEvent) => void = () => {};
  onRecovered: (provider: string) => void = () => {};

  get(name: string): ProviderState {
    let s = this.byName.get(name);
    if (!s) this.byName.set(name, (s = new ProviderState()));
    return s;
  }

  /** Attempts in progress per provider (the in-flight gauge reads this when scraped). */
  *inFlightByProvider(): IterableIterator<[string, number]> {
    for (const [name, s] of this.byName) yield [name, s.inFlight];
  }

  begin(name: string): void {
    this.get(name).inFlight++;
  }

  /** An attempt ended; `failed` = connect error, timeout or 5xx (not a 4xx, 429 or a client leaving). */
  end(name: string, provider: Provider | undefined, outcome: 'success' | 'failure' | 'neutral', now = performance.now()): void {
    const s = this.get(name);
    if (s.inFlight > 0) s.inFlight--;
    if (outcome === 'neutral') return;
    if (outcome === 'success') {
      const wasCooled = s.streak > 0;
      s.consecutiveFailures = 0;
      s.streak = 0;
      s.coolUntil = 0;
      if (wasCooled) this.onRecovered(name);
      return;
    }
    s.consecutiveFailures++;
    const cfg = provider?.cooldown ?? DEFAULT_COOLDOWN;
    // A request that started before the cool-down and failed during it does not extend it.
    if (s.consecutiveFailures < cfg.failures || s.cooling(now)) return;
    const seconds = Math.min(MAX_COOLDOWN_S, cfg.seconds * 2 ** s.streak);
    s.streak++;
    s.coolUntil = now + seconds * 1000;
    this.onCooldown({ provider: name, failures: s.consecutiveFailures, seconds });
  }

  setDrained(name: string, drained: boolean): ProviderState {
    const s = this.get(name);
    s.drained = drained;
    return s;
  }
}
