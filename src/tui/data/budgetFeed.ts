// Live budgets: GET /budgets from the gateway (its O(1) counters; asked at every refresh while
// requests are logged, less often on a quiet box: pollRhythm.ts), or the same figures summed
// from the usage log when the gateway is down; plus each budget's spend over the last hour,
// from which the panel forecasts when it runs out.
import { budgetKey, type BudgetEntry, type BudgetStatus } from '../../config/schema.js';
import type { Db } from '../../usage/db.js';
import { computeBudgetStatus } from '../../usage/spend.js';
import { sortBudgets, type BudgetRow, type BudgetSourceKind } from '../presentation/budgetView.js';
import { sameData } from '../../system/store.js';
import { PolledStore } from './polledStore.js';
import { getJson } from '../gatewayChild/httpGet.js';
import type { PollRhythm } from './pollRhythm.js';

export interface BudgetFeedState {
  rows: readonly BudgetRow[];
  source: BudgetSourceKind;
  notice: string | null;
  /** shared mode: the gateways with a live heartbeat on the shared Redis, as /budgets says (else null) */
  sharedGateways?: number | null;
}

export interface BudgetFeedOptions {
  refreshMs: number;
  /** base URL of the gateway, e.g. http://127.0.0.1:4000; null when there is none to ask */
  gatewayUrl: () => string | null;
  masterKey: () => string | undefined;
  budgets: () => readonly BudgetEntry[];
  db: () => Db | null;
  /** summing a window from the log costs a range scan: not on every tick */
  logEveryMs?: number;
  lastHourEveryMs?: number;
  fetchTimeoutMs?: number;
  /** when GET /budgets is asked (pollRhythm.ts); without one, at every refresh */
  rhythm?: PollRhythm;
}

const HOUR_S = 3600;

/** In shared mode GET /budgets says, at the top, which gateways share the budgets. */
function parseSharedGateways(body: unknown): number | null {
  const gateways = (body as { shared?: { gateways?: unknown } } | null)?.shared?.gateways;
  return Array.isArray(gateways) ? gateways.length : null;
}

/** GET /budgets may answer a bare array or `{budgets: [...]}`. */
function parseBudgets(body: unknown): BudgetStatus[] | null {
  const list = Array.isArray(body) ? body : (body as { budgets?: unknown })?.budgets;
  if (!Array.isArray(list)) return null;
  return list.filter(
    (b): b is BudgetStatus =>
      b && typeof b === 'object' && typeof b.target === 'string' && typeof b.spend_usd === 'number' && typeof b.max_budget_usd === 'number',
  );
}

export class BudgetFeed extends PolledStore<BudgetFeedState> {
  private lastHour = new Map<string, number>();
  private lastHourAt = 0;
  private fromLog: BudgetStatus[] | null = null;
  private fromLogAt = 0;
  /** the gateway's last answer, reused between questions on a quiet box */
  private live: { budgets: BudgetStatus[]; sharedGateways: number | null } | null = null;

  constructor(private readonly opts: BudgetFeedOptions) {
    super({ rows: [], source: null, notice: null }, sameData, opts.refreshMs);
  }

  protected async poll(now: number): Promise<void> {
    try {
      const budgets = this.opts.budgets();
      const db = this.opts.db();
      this.refreshLastHour(db, budgets, now);
      // in shared mode other gateways spend without this box's log growing: asked every refresh
      const due = this.opts.rhythm?.due(now, this.live?.sharedGateways != null) ?? true;
      const ask = due || !this.live;
      const live = ask ? await this.fetchGateway(now) : this.live;
      this.live = live;
      let statuses: BudgetStatus[];
      let source: BudgetSourceKind;
      let notice: string | null = null;
      if (live) {
        statuses = live.budgets;
        source = 'gateway';
        this.fromLog = null;
      } else if (db) {
        if (!this.fromLog || now - this.fromLogAt >= (this.opts.logEveryMs ?? 5000)) {
          this.fromLog = computeBudgetStatus(db, budgets, now);
          this.fromLogAt = now;
        }
        statuses = this.fromLog;
        source = 'log';
      } else {
        statuses = budgets.map((b) => ({ ...b, spend_usd: 0, remaining_usd: b.max_budget_usd, exceeded: false }));
        source = null;
        notice = budgets.length > 0 ? 'gateway down and no usage log yet: spend unknown' : null;
      }
      const rows: BudgetRow[] = statuses.map((s) => ({ ...s, lastHourSpendUsd: db ? this.lastHourSpend(s) : null }));
      this.set({ rows: sortBudgets(rows), source, notice, sharedGateways: live?.sharedGateways ?? null });
    } catch (e) {
      this.set({ ...this.getSnapshot(), notice: `budgets: ${(e as Error).message}` });
    }
  }

  /** A window of an hour or less lies inside the last hour: its live spend is a floor. */
  private lastHourSpend(s: BudgetStatus): number {
    const fromLog = this.lastHour.get(budgetKey(s.scope, s.target)) ?? 0;
    return s.window_seconds <= HOUR_S ? Math.max(fromLog, s.spend_usd) : fromLog;
  }

  private refreshLastHour(db: Db | null, budgets: readonly BudgetEntry[], now: number): void {
    if (!db || now - this.lastHourAt < (this.opts.lastHourEveryMs ?? 5000)) return;
    const hour = budgets.map((b) => ({ ...b, budget_window: '1h', window_seconds: HOUR_S }));
    this.lastHour = new Map(computeBudgetStatus(db, hour, now).map((s) => [budgetKey(s.scope, s.target), s.spend_usd]));
    this.lastHourAt = now;
  }

  private async fetchGateway(now: number): Promise<{ budgets: BudgetStatus[]; sharedGateways: number | null } | null> {
    const base = this.opts.gatewayUrl();
    if (!base) return null;
    const key = this.opts.masterKey();
    try {
      const res = await getJson(`${base}/budgets`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        timeoutMs: this.opts.fetchTimeoutMs ?? 1000,
      });
      const budgets = res.status === 200 ? parseBudgets(res.body) : null;
      if (budgets) this.opts.rhythm?.answered(now);
      return budgets ? { budgets, sharedGateways: parseSharedGateways(res.body) } : null;
    } catch {
      return null;
    }
  }
}
