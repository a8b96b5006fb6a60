// Rate limits across gateways: the per-minute request and token windows of keys and models kept
// in the shared Redis, so three gateways admit what one would.
//
// - admit(): the hot path. One script call checks every limit the request falls under, over the
//   same sliding minute as the local counter (the current second and the 59 before it), and
//   only if all fit counts the request (and reserves its token estimate) in all of them. At most
//   HOT_DEADLINE_MS; a link that is down answers at once.
// - settle(): off the response's path. A request's token estimate is corrected to what it used,
//   in the second it was admitted in; corrections are merged and sent in one call per 10 ms.
//
// A gateway that dies mid-request leaves its token estimate counted until that second leaves the
// window: at most a minute. The scripts and the key layout are in rate-scripts.ts.
import { BACKGROUND_DEADLINE_MS, type RedisLink } from './link.js';

export interface RateAsk {
  /** `key:<alias>` or `model:<name>` */
  id: string;
  /** 0: no such limit */
  rpm: number;
  tpm: number;
  estimate: number;
}

/** One subject's window over every gateway, as the script left it. */
export interface RateView {
  requests: number;
  tokens: number;
  resetRequestsMs: number;
  resetTokensMs: number;
}

export type RateOutcome =
  | { kind: 'admitted'; second: number; views: RateView[] }
  | { kind: 'refused'; subject: number; type: 'requests' | 'tokens'; waitMs: number; views: RateView[] }
  | { kind: 'unavailable'; reason: string };

const SETTLE_BATCH_MS = 10;
/** corrections kept while Redis is away; past this they are dropped (they leave the window within a minute anyway) */
const MAX_PENDING = 10_000;

const int = (v: unknown) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

export class SharedRateLimits {
  /** `${id}\0${second}` -> tokens to add */
  private readonly pending = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly link: RedisLink,
    /** why shared state cannot be used now (null when it can) */
    private readonly usable: () => string | null,
  ) {}

  async admit(asks: readonly RateAsk[]): Promise<RateOutcome> {
    const why = this.usable();
    if (why !== null) return { kind: 'unavailable', reason: why };
    const args: Array<string | number> = [Date.now(), asks.length];
    for (const a of asks) args.push(a.id, a.rpm, a.tpm, Math.max(0, Math.ceil(a.estimate)));
    const answer = await this.link.hotCall((c) => c.ptuiRateAdmit(...args));
    if ('unavailable' in answer) return { kind: 'unavailable', reason: answer.unavailable };
    const reply = answer.reply;
    if (!Array.isArray(reply) || reply.length !== 4 + asks.length * 4) return { kind: 'unavailable', reason: 'unexpected reply from Redis' };
    const views: RateView[] = asks.map((_, i) => ({
      requests: int(reply[4 + i * 4]),
      tokens: int(reply[5 + i * 4]),
      resetRequestsMs: int(reply[6 + i * 4]),
      resetTokensMs: int(reply[7 + i * 4]),
    }));
    const refused = int(reply[0]);
    if (refused === 0) return { kind: 'admitted', second: int(reply[3]), views };
    return { kind: 'refused', subject: refused - 1, type: int(reply[1]) === 1 ? 'requests' : 'tokens', waitMs: int(reply[2]), views };
  }

  /** A request admitted in `second` used `delta` tokens more (or fewer) than it reserved. */
  settle(id: string, second: number, delta: number): void {
    if (!Number.isFinite(delta) || delta === 0) return;
    const k = `${id}\0${second}`;
    if (this.pending.size >= MAX_PENDING && !this.pending.has(k)) return;
    this.pending.set(k, (this.pending.get(k) ?? 0) + Math.round(delta));
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => void this.flush(), SETTLE_BATCH_MS).unref();
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.pending.size === 0 || this.usable() !== null) return;
    const args: Array<string | number> = [Date.now()];
    for (const [k, v] of this.pending) {
      const cut = k.lastIndexOf('\0');
      if (v !== 0) args.push(k.slice(0, cut), k.slice(cut + 1), v);
    }
    this.pending.clear();
    if (args.length === 1) return;
    try {
      await this.link.call((c) => c.ptuiRateSettle(...args), BACKGROUND_DEADLINE_MS);
    } catch {
      // a correction lost is a window a little off for under a minute
    }
  }
}
