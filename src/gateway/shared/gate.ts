// What the budget callback asks of shared mode for one request: which budgets it touches, how
// long its reservations may live in Redis, and a budget's status over all gateways.
import type { Provider, BudgetStatus } from '../../config/schema.js';
import type { BudgetTracker } from '../budget/tracker.js';
import type { Context } from '../context.js';
import type { ReserveItem } from './budgets.js';
import type { SharedState } from './state.js';
import { toBudgetStatus } from '../../usage/spend.js';

/** What a dead gateway's reservations may outlive its request deadline by. */
export const RESERVATION_MARGIN_MS = 30_000;

/**
 * Every budget the request falls under (its model, capability, virtual key and the providers of its targets),
 * and of those the `block` ones with what this request holds on each locally (0: only checked).
 */
export function touchedBlockBudgets(t: BudgetTracker, ctx: Context, held: ReadonlyMap<string, number>): { touched: number; block: ReserveItem[] } {
  const seen = new Set<string>();
  const block: ReserveItem[] = [];
  let touched = 0;
  const add = (b: ReturnType<BudgetTracker['get']>) => {
    if (!b || seen.has(b.key)) return;
    seen.add(b.key);
    touched++;
    if (b.entry.action === 'block') block.push({ entry: b.entry, usd: held.get(b.key) ?? 0 });
  };
  add(t.get('model', ctx.logicalModel));
  add(t.get('capability', ctx.capability));
  // a key budget is shared by alias: the same alias on every gateway is one budget
  add(t.get('key', ctx.apiKey?.alias));
  for (const target of ctx.targets) add(t.get('provider', target.provider));
  return { touched, block };
}

/** The request's deadline (every target tried to its timeout) plus the margin, as epoch ms. */
export function reservationExpiry(ctx: Context, providers: Record<string, Provider>): number {
  let ms = 0;
  for (const target of ctx.targets) ms += (providers[target.provider]?.timeout_s ?? 600) * 1000;
  return Date.now() + ms + RESERVATION_MARGIN_MS;
}

/** A budget's status with spend summed over gateways: the others' last known plus this one's live spend. */
export function sharedStatus(shared: SharedState, local: BudgetStatus): BudgetStatus {
  const view = shared.budgets.view(local);
  const readAt = shared.budgets.viewReadAt;
  if (!view) {
    return { ...local, shared: { local_spend_usd: local.spend_usd, reserved_usd: 0, gateways: [], read_at: readAt ? new Date(readAt).toISOString() : null } };
  }
  const mine = view.gateways.find((g) => g.gateway_id === shared.gatewayId)?.spend_usd ?? 0;
  const spend = Math.max(0, view.spend_usd - mine) + local.spend_usd;
  return {
    ...toBudgetStatus(local, spend),
    shared: { local_spend_usd: local.spend_usd, reserved_usd: view.reserved_usd, gateways: view.gateways, read_at: new Date(readAt).toISOString() },
  };
}

