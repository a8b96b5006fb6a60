// The engines behind the gateway, as the gateway sees them: GET /engines (each engine's live
// figures and their scrape age) and GET /admin/providers (routing state and in-flight counts
// per provider), once a refresh. The console never scrapes an engine itself: what it shows is
// what the gateway routes on. Without an answer the figures are dropped, never kept as if live.
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { EngineStatus } from '../../engines/types.js';
import { sameData } from '../../system/store.js';
import { PolledStore } from './polledStore.js';
import type { GatewayAdmin } from './gatewayAdmin.js';

export interface EngineFeedState {
  engines: readonly EngineStatus[];
  routing: readonly ProviderRoutingView[];
  /** why there are no figures (no gateway, refused, an answer of the wrong shape); null when they are live */
  notice: string | null;
  /** Date.now() of the last answer; null when the gateway has not answered (figures unknown) */
  updatedAt: number | null;
}

export const INITIAL_ENGINES: EngineFeedState = { engines: [], routing: [], notice: null, updatedAt: null };

export class EngineFeed extends PolledStore<EngineFeedState> {
  constructor(
    private readonly admin: GatewayAdmin,
    refreshMs: number,
  ) {
    super(INITIAL_ENGINES, sameData, refreshMs);
  }

  protected async poll(now: number): Promise<void> {
    try {
      const [report, routing] = await Promise.all([this.admin.engines(), this.admin.providers()]);
      this.set({ engines: report.engines, routing, notice: null, updatedAt: now });
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
