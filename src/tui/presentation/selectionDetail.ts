// Which detail Enter opens for the selected row, and what it reads once open: a service's
// traffic over the last minutes and a budget's spend over its window (per minute, from the
// usage log), a request's failed attempts (from the gateway's log). A service's detail ends with
// its engine as the gateway saw it when the detail opened (presentation/engineDetail.ts).
import type { ResolvedConfig } from '../../config/load.js';
import type { ServiceState } from '../../system/types.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { DashboardActions } from '../contexts/SourcesContext.js';
import type { BudgetRow } from './budgetView.js';
import { budgetDetail, requestDetail, serviceDetail, type Detail, type DetailExtra, type Seen, type ServiceActionRecord } from './detail.js';
import type { EngineFeedState } from '../data/engineFeed.js';
import { serviceEngineDetail } from './engineDetail.js';

/** A service's traffic in its detail covers this many minutes. */
export const SERVICE_TRAFFIC_MIN = 15;
const MINUTE_MS = 60_000;

export interface DetailPlan {
  build: (extra?: DetailExtra) => Detail;
  load?: () => Promise<DetailExtra>;
}

export type Selection = { service: ServiceState } | { request: StoredUsageRow } | { budget: BudgetRow };

export function selectionDetail(
  sel: Selection,
  ctx: {
    seen: Seen;
    config: ResolvedConfig | undefined;
    lastAction: (unit: string) => ServiceActionRecord | null;
    actions: DashboardActions;
    engines: EngineFeedState;
    nowMs: number;
  },
): DetailPlan {
  const { actions } = ctx;
  if ('service' in sel) {
    const s = sel.service;
    const last = ctx.lastAction(s.unit);
    const since = ctx.nowMs - (SERVICE_TRAFFIC_MIN - 1) * MINUTE_MS;
    return {
      build: (extra) => serviceEngineDetail(serviceDetail(s, ctx.seen, last, extra), s, ctx.engines, ctx.config),
      load: async () => ({ series: await actions.usageSeries('provider', s.provider, since) }),
    };
  }
  if ('request' in sel) {
    const r = sel.request;
    const id = r.request_id;
    return {
      build: (extra) => requestDetail(r, ctx.seen, ctx.config, extra),
      load: typeof r.attempts === 'number' && r.attempts > 1 && id ? async () => ({ attempts: await actions.requestAttempts(id) }) : undefined,
    };
  }
  const b = sel.budget;
  const since = ctx.nowMs - b.window_seconds * 1000;
  return { build: (extra) => budgetDetail(b, extra), load: async () => ({ series: await actions.usageSeries(b.scope, b.target, since) }) };
}
