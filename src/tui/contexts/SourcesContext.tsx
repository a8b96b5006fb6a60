// The live data sources of one dashboard session, created by main.tsx and read by the hooks.
// Components never see this: they get plain data as props.
import { createContext, useContext, type ReactNode } from 'react';
import type { GpuState, HostState, ServiceActionResult, ServiceState, ServicesState, ServiceVerb } from '../../system/types.js';
import type { BudgetScope } from '../../config/schema.js';
import type { MinuteStats } from '../../usage/reader.js';
import type { Store } from '../../system/store.js';
import type { UsageFeedState } from '../data/usageFeed.js';
import type { BudgetFeedState } from '../data/budgetFeed.js';
import type { ConfigState } from '../data/configStore.js';
import type { GatewayChildState } from '../gatewayChild/state.js';
import type { FrameClock } from '../data/frameClock.js';
import type { Follower, FollowTarget } from '../data/lineFollower.js';
import type { EngineFeedState } from '../data/engineFeed.js';
import type { ProviderActions } from '../data/drainRestart.js';

export interface DashboardActions {
  serviceAction(unit: string, verb: ServiceVerb): Promise<ServiceActionResult>;
  /** a fresh reading of one unit (systemctl show and its health probe); null if not configured */
  unitState(unit: string): Promise<ServiceState | null>;
  /** the gateway's operator endpoints: drain, undrain, routing state, engine figures */
  providers: ProviderActions;
  /** a source of lines for a following view (a unit's journal, runtime/logs/gateway.log), not started yet */
  follow(target: FollowTarget): Promise<Follower>;
  /** config export; resolves with the line for the status bar */
  exportConfig(): Promise<{ ok: boolean; message: string }>;
  restartGateway(): Promise<string>;
  /** the Requests filter: the whole usage log is searched for it ('' shows the newest rows again) */
  filterRequests(text: string): void;
  /** requests, errors and cost per minute of one budget scope's target since `sinceMs`, oldest first */
  usageSeries(scope: BudgetScope, target: string, sinceMs: number): Promise<MinuteStats[]>;
  /** a request's failed attempts, as the end of the gateway's log holds them */
  requestAttempts(requestId: string): Promise<string[]>;
  quit(): void;
}

export interface DashboardSources {
  gpu: Store<GpuState>;
  host: Store<HostState>;
  services: Store<ServicesState>;
  usage: Store<UsageFeedState>;
  budgets: Store<BudgetFeedState>;
  /** the gateway's /engines and /admin/providers */
  engines: Store<EngineFeedState>;
  gateway: Store<GatewayChildState>;
  config: Store<ConfigState>;
  /** when to redraw: every store above notifies it */
  frame: FrameClock;
  actions: DashboardActions;
  refreshMs: number;
  rateWindowS: number;
  statsWindowS: number;
  title: string;
}

const SourcesContext = createContext<DashboardSources | null>(null);

export function SourcesProvider({ sources, children }: { sources: DashboardSources; children: ReactNode }) {
  return <SourcesContext.Provider value={sources}>{children}</SourcesContext.Provider>;
}

export function useSources(): DashboardSources {
  const s = useContext(SourcesContext);
  if (!s) throw new Error('useSources outside SourcesProvider');
  return s;
}
