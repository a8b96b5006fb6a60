// The global view of the shared budgets as the status script returns it: per budget the spend
// and reservations over every gateway and the split per gateway, kept as the last known figures
// (GlobalView). Parsed here from Redis' reply, which is outside input: every figure is held to a
// finite, non-negative number.

export interface GatewaySplit {
  gateway_id: string;
  spend_usd: number;
  reserved_usd: number;
  /** the part of reserved_usd held as a budget lease */
  leased_usd: number;
}

export interface GlobalBudgetView {
  spend_usd: number;
  reserved_usd: number;
  gateways: GatewaySplit[];
}

/** A figure from Redis: finite and >= 0, else 0. */
export const num = (v: unknown) => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/** A flat Redis list [k1, v1, k2, v2, ...] as pairs. */
export function pairs(flat: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}

/**
 * One budget's row of the status reply ({spend, reserved, spend split, reserved split, lease
 * split}); undefined when it is not a row. `others` is the global figure less `gatewayId`'s share.
 */
function parseBudgetRow(row: unknown, gatewayId: string): { view: GlobalBudgetView; others: number } | undefined {
  if (!Array.isArray(row)) return undefined;
  const spend = num(row[0]);
  const reserved = num(row[1]);
  const split = new Map<string, GatewaySplit>();
  const at = (gw: string) => split.get(gw) ?? split.set(gw, { gateway_id: gw, spend_usd: 0, reserved_usd: 0, leased_usd: 0 }).get(gw)!;
  for (const [gw, v] of pairs(row[2])) at(gw).spend_usd = num(v);
  for (const [gw, v] of pairs(row[3])) at(gw).reserved_usd = num(v);
  for (const [gw, v] of pairs(row[4])) at(gw).leased_usd = num(v);
  const gateways = [...split.values()].sort((a, b) => a.gateway_id.localeCompare(b.gateway_id));
  const mine = split.get(gatewayId);
  return { view: { spend_usd: spend, reserved_usd: reserved, gateways }, others: Math.max(0, spend + reserved - (mine ? mine.spend_usd + mine.reserved_usd : 0)) };
}

/** What this gateway last read of every budget over all gateways: what it falls back on while Redis is away. */
export class GlobalView {
  /** others' spend plus reservations per budget id (the global figure less this gateway's share) */
  readonly others = new Map<string, number>();
  private views = new Map<string, GlobalBudgetView>();
  /** gateways with a live heartbeat */
  gateways: string[] = [];
  /** epoch ms of the last read, 0 = never */
  readAt = 0;

  get(id: string): GlobalBudgetView | undefined {
    return this.views.get(id);
  }

  /** Takes in the status script's reply for the budgets `ids`, in that order. */
  apply(reply: unknown, ids: readonly string[], gatewayId: string): void {
    if (!Array.isArray(reply)) return;
    this.gateways = pairs(reply[0]).map(([gw]) => gw).sort();
    const views = new Map<string, GlobalBudgetView>();
    ids.forEach((id, i) => {
      const parsed = parseBudgetRow(reply[1 + i], gatewayId);
      if (!parsed) return;
      views.set(id, parsed.view);
      this.others.set(id, parsed.others);
    });
    this.views = views;
    this.readAt = Date.now();
  }
}
