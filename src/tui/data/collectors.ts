// Everything that gathers data for the panels: the system collectors, the usage, budget and
// engine feeds, and the calls to the gateway's operator endpoints. Loaded after the first frame
// (its imports — execa, systeminformation, SQLite, zod — cost more than the frame itself) and
// mirrored into the stores the App already reads.
import type { Paths } from '../../config/paths.js';
import type { ResolvedConfig } from '../../config/load.js';
import { GpuMonitor } from '../../system/gpu.js';
import { HostMonitor } from '../../system/host.js';
import type { GpuState, HostState, ServiceActionResult, ServiceState, ServicesState, ServiceVerb } from '../../system/types.js';
import type { BudgetScope } from '../../config/schema.js';
import type { MinuteStats } from '../../usage/reader.js';
import type { JournalCommand } from './journalFollower.js';
import type { Store, ValueStore } from '../../system/store.js';
import { UsageFeed, type UsageFeedState } from './usageFeed.js';
import { BudgetFeed, type BudgetFeedState } from './budgetFeed.js';
import { ServicesSource } from './servicesSource.js';
import type { ConfigState } from './configStore.js';
import { mirrorInto } from './boundary.js';
import { EngineFeed, type EngineFeedState } from './engineFeed.js';
import { GatewayAdmin } from './gatewayAdmin.js';
import { PollRhythm } from './pollRhythm.js';
import type { ProviderActions } from './drainRestart.js';

export interface PanelStores {
  gpu: ValueStore<GpuState>;
  host: ValueStore<HostState>;
  services: ValueStore<ServicesState>;
  usage: ValueStore<UsageFeedState>;
  budgets: ValueStore<BudgetFeedState>;
  engines: ValueStore<EngineFeedState>;
}

export interface CollectorOptions {
  paths: Paths;
  config: Store<ConfigState>;
  refreshMs: number;
  /** also the rhythm of the gateway's figures on a quiet box (pollRhythm.ts) */
  servicesRefreshMs: number;
  statsWindowMs: number;
  rateWindowMs: number;
  /** base URL of a gateway that answers now, or null */
  gatewayUrl: () => string | null;
}

export interface Collectors {
  runServiceAction(unit: string, verb: ServiceVerb): Promise<ServiceActionResult>;
  journalFollowCommand(unit: string): JournalCommand;
  unitState(unit: string): Promise<ServiceState | null>;
  providers: ProviderActions;
  /** undrain what a drain-first restart left half-way (the console is quitting) */
  releaseDrains(): Promise<void>;
  filterRequests(text: string): void;
  usageSeries(scope: BudgetScope, target: string, sinceMs: number): MinuteStats[];
  setConfig(config: ResolvedConfig | undefined): void;
  stop(): void;
}

export function startCollectors(stores: PanelStores, o: CollectorOptions): Collectors {
  // GPU processes come and go with the services: listed at the units' rhythm (each query is an
  // nvidia-smi start) and at once after a service action.
  const gpu = new GpuMonitor({ refreshMs: o.refreshMs, appsIntervalMs: o.servicesRefreshMs });
  const host = new HostMonitor({ diskPath: o.paths.runtimeDir, refreshMs: o.refreshMs });
  const services = new ServicesSource(o.config.getSnapshot().config, {
    refreshMs: o.servicesRefreshMs,
    gpuProcesses: () => gpu.getSnapshot().processes,
  });
  const usage = new UsageFeed({
    dbPath: o.paths.usageDb,
    // new rows show within a second at the default refresh
    pollMs: Math.min(o.refreshMs, 500),
    statsMs: o.refreshMs,
    statsWindowMs: o.statsWindowMs,
    rateWindowMs: o.rateWindowMs,
  });
  const budgets = new BudgetFeed({
    refreshMs: o.refreshMs,
    gatewayUrl: o.gatewayUrl,
    masterKey: () => o.config.getSnapshot().config?.gateway.master_key,
    budgets: () => o.config.getSnapshot().config?.budgets ?? [],
    db: () => usage.db(),
    rhythm: new PollRhythm(() => usage.newestId(), o.servicesRefreshMs),
  });
  const admin = new GatewayAdmin({ gatewayUrl: o.gatewayUrl, masterKey: () => o.config.getSnapshot().config?.gateway.master_key });
  const engines = new EngineFeed(admin, o.refreshMs, new PollRhythm(() => usage.newestId(), o.servicesRefreshMs));
  const offs = [
    mirrorInto(gpu, stores.gpu),
    mirrorInto(host, stores.host),
    mirrorInto(services, stores.services),
    // the usage feed publishes new state objects and keeps its rows as read (usageFeed.ts)
    mirrorInto(usage, stores.usage, { immutable: true }),
    mirrorInto(budgets, stores.budgets),
    mirrorInto(engines, stores.engines),
  ];
  gpu.start();
  host.start();
  services.start();
  usage.start();
  budgets.start();
  engines.start();
  return {
    runServiceAction: async (unit, verb) => {
      const result = await services.runServiceAction(unit, verb);
      gpu.refreshApps();
      return result;
    },
    journalFollowCommand: (unit) => services.journalFollowCommand(unit),
    unitState: (unit) => services.unitState(unit),
    providers: {
      drain: (name) => admin.setDrained(name, true).finally(() => void engines.refreshSoon()),
      undrain: (name) => admin.setDrained(name, false).finally(() => void engines.refreshSoon()),
      keepDrained: (name) => admin.keepDrained(name),
      routing: (name) => admin.provider(name),
      engine: async (name) => (await admin.engines()).engines.find((e) => e.provider === name) ?? null,
    },
    releaseDrains: () => admin.release(),
    filterRequests: (text) => usage.setFilter(text),
    usageSeries: (scope, target, sinceMs) => usage.series(scope, target, sinceMs),
    setConfig: (config) => services.setConfig(config),
    stop() {
      offs.forEach((off) => off());
      gpu.stop();
      host.stop();
      services.stop();
      usage.stop();
      budgets.stop();
      engines.stop();
    },
  };
}
