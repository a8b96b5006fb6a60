// The engines behind the gateway, as the gateway sees them: GET /engines (each engine's live
// figures and their scrape age) and GET /admin/providers (routing state and in-flight counts
// per provider), at every refresh while there is traffic or work in flight and at a quieter
// rhythm on an idle box (pollRhythm.ts). The console never scrapes an engine itself: what it shows is
// what the gateway routes on. Without an answer the figures are dropped, never kept as if live.
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { EngineStatus } from '../../engines/types.js';
import { sameData } from '../../system/store.js';
import { PolledStore } from './polledStore.js';
import type { GatewayAdmin } from './gatewayAdmin.js';
import type { PollRhythm } from './pollRhythm.js';

export interface EngineFeedState {
  engines: readonly EngineStatus[];
  routing: readonly ProviderRoutingView[];
  /** why there are no figures (no gateway, refused, an answer of the wrong shape); null when they are live */
  notice: string | null;
  /** Date.now() of the last answer; null when the gateway has not answered (figures unknown) */
  updatedAt: number | null;
}

export const INITIAL_ENGINES: EngineFeedState = { engines: [], routing: [], notice: null, updatedAt: null };

/** Requests in flight, queued or running on an engine, or a provider not simply active (a cooldown counts down). */
function working(state: EngineFeedState): boolean {
  return state.routing.some((r) => r.in_flight > 0 || r.state !== 'active' || (r.engine?.running ?? 0) > 0 || (r.engine?.waiting ?? 0) > 0);
}

export class EngineFeed extends PolledStore<EngineFeedState> {
  constructor(
    private readonly admin: GatewayAdmin,
    refreshMs: number,
    /** at every refresh while traffic flows or work is in flight, else at the quiet rhythm */
    private readonly rhythm: PollRhythm,
  ) {
    super(INITIAL_ENGINES, sameData, refreshMs);
  }

  /** Read at once, and at every refresh for a while (after a drain or an undrain). */
  async refreshSoon(now = Date.now()): Promise<void> {
    this.rhythm.touch(now);
    await this.refresh(now);
  }

  protected async poll(now: number): Promise<void> {
    const last = this.getSnapshot();
    const due = this.rhythm.due(now, working(last));
    if (!due && last.updatedAt !== null) return;
    try {
      const [report, routing] = await Promise.all([this.admin.engines(), this.admin.providers()]);
      this.set({ engines: report.engines, routing, notice: null, updatedAt: now });
      this.rhythm.answered(now);
    } catch (e) {
      this.set({ ...INITIAL_ENGINES, notice: `engines: ${(e as Error).message}` });
    }
  }
}

/** The gateway's figures for one provider, if it has an engine. */
export function engineOf(state: EngineFeedState, provider: string): EngineStatus | undefined {
  return state.engines.find((e) => e.provider === provider);
}

export function routingOf(state: EngineFeedState, provider: string): ProviderRoutingView | undefined {
  return state.routing.find((r) => r.name === provider);
}
