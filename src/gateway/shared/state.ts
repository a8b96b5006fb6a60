// Shared mode as a whole: the Redis link, this gateway's identity in it, the shared budgets and
// rate limits, plus what /health, /budgets and /metrics say about them. Built only when gateway.yaml has a
// `shared:` block (README "Several boxes").
//
// Start: connect (waiting at most START_WAIT_MS), then claim the gateway_id. Wrong credentials
// or an id held by another gateway stop the start with a message; an unreachable Redis does not:
// the gateway starts degraded and converges once Redis answers. Every time the link comes back,
// or a heartbeat finds that Redis lost our state, this gateway's buckets are republished.
import os from 'node:os';
import client from 'prom-client';
import type { SharedConfig } from '../../config/schema.js';
import type { Logger } from '../log.js';
import { SharedBudgets } from './budgets.js';
import { GatewayIdentity, type ClaimResult } from './identity.js';
import { isAuthError, RedisLink } from './link.js';
import { SharedRateLimits } from './rate-limits.js';

const START_WAIT_MS = 1500;

/** The host name as a gateway_id: characters an id may not hold become "-". */
export function defaultGatewayId(): string {
  const h = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (h || 'gateway').slice(0, 64);
}

export interface SharedHealth {
  state: 'up' | 'down';
  redis: string;
  gateway_id: string;
  on_unavailable: 'local' | 'block';
  /** gateways with a live heartbeat, this one included, as last read */
  gateways: string[];
  reason?: string;
}

export class SharedState {
  readonly link: RedisLink;
  readonly identity: GatewayIdentity;
  readonly budgets: SharedBudgets;
  readonly rateLimits: SharedRateLimits;
  readonly gatewayId: string;
  readonly mode: 'local' | 'block';
  /** set when a heartbeat found another instance holding our id after we started */
  private conflict: string | null = null;
  private claimed = false;
  /** Redis may miss what this gateway did meanwhile: republish at the next chance */
  private stale = true;
  private converging: Promise<void> | null = null;
  private readonly upGauge: client.Gauge;
  private readonly unavailableTotal: client.Counter;
  private readonly gatewaysGauge: client.Gauge;
  private readonly admissions: client.Counter;

  constructor(
    shared: SharedConfig,
    home: string,
    runtimeDir: string,
    private readonly log: Logger,
    registry: client.Registry,
  ) {
    this.gatewayId = shared.gateway_id ?? defaultGatewayId();
    this.mode = shared.on_unavailable;
    this.link = new RedisLink(shared, home, `ptui-${this.gatewayId}`, {
      onUp: () => this.onLinkUp(),
      onDown: (reason) => {
        this.stale = true;
        this.upGauge.set(0);
        this.log.warn('shared_unavailable', { reason, on_unavailable: this.mode });
      },
      // A late answer need not take the link down (a paused Redis, a starved box), but a write may
      // have been lost or overtaken meanwhile: the next heartbeat that gets through republishes.
      onLate: () => {
        this.stale = true;
      },
    });
    this.identity = new GatewayIdentity(this.gatewayId, runtimeDir, this.link);
    this.budgets = new SharedBudgets(this.link, this.gatewayId, log, () => this.unusableReason(), (path) => this.admissions.inc({ path }));
    this.rateLimits = new SharedRateLimits(this.link, () => this.unusableReason());
    const r = [registry];
    this.upGauge = new client.Gauge({ name: 'backend_llm_shared_up', help: '1 while the shared Redis answers and holds this gateway\'s heartbeat.', registers: r });
    this.unavailableTotal = new client.Counter({
      name: 'backend_llm_shared_unavailable_total',
      help: 'Requests under a shared budget or rate limit decided without Redis (on_unavailable), by the action taken.',
      labelNames: ['action'],
      registers: r,
    });
    this.admissions = new client.Counter({
      name: 'backend_llm_shared_budget_admissions_total',
      help: 'Requests under a shared block budget admitted by path: lease (in memory, on this gateway\'s budget leases) or redis (the check-and-reserve round trip).',
      labelNames: ['path'],
      registers: r,
    });
    this.gatewaysGauge = new client.Gauge({
      name: 'backend_llm_shared_gateways',
      help: 'Gateways with a live heartbeat in the shared Redis, as last read.',
      registers: r,
      collect: () => {
        this.gatewaysGauge.set(this.budgets.gateways.length);
      },
    });
  }

  /** Why shared state cannot be used now (null when it can). */
  unusableReason(): string | null {
    if (this.conflict) return this.conflict;
    if (!this.link.up) return this.link.reason ?? 'Redis is not connected';
    if (!this.claimed) return 'gateway_id not yet claimed in Redis';
    return null;
  }

  /** Connects and claims the id. Returns a message that must stop the start, or null. */
  async start(): Promise<string | null> {
    await this.link.connect(START_WAIT_MS);
    const err = this.link.lastErrorMessage;
    if (!this.link.up && err && isAuthError(err)) return `shared.redis_url: ${this.link.reason}`;
    if (this.link.up) {
      const c = await this.identity.claim();
      if (c.kind === 'conflict') return c.message;
      this.claimed = c.kind !== 'unavailable';
    }
    if (!this.link.up || !this.claimed) {
      this.log.warn('shared_unavailable', {
        reason: this.unusableReason(),
        on_unavailable: this.mode,
        note: this.mode === 'local' ? 'starting degraded: budgets use this gateway\'s own spend until Redis answers' : 'starting degraded: requests under a budget get 503 until Redis answers',
      });
    }
    this.upGauge.set(this.unusableReason() === null ? 1 : 0);
    this.identity.start((r) => this.onBeat(r));
    this.budgets.start();
    return null;
  }

  /** Once the budget tracker is attached: republish and read the global view. */
  converge(): Promise<void> {
    if (this.converging) return this.converging;
    this.converging = (async () => {
      try {
        if (this.unusableReason() !== null) return;
        if (!(await this.budgets.converge())) return;
        this.stale = false;
        this.log.info('shared_converged', { gateway_id: this.gatewayId, gateways: this.budgets.gateways.length, redis: this.link.url });
      } finally {
        this.converging = null;
      }
    })();
    return this.converging;
  }

  /** A request under a shared budget was decided without Redis. */
  countUnavailable(action: 'local' | 'block'): void {
    this.unavailableTotal.inc({ action });
  }

  health(): SharedHealth {
    const reason = this.unusableReason();
    const h: SharedHealth = {
      state: reason === null ? 'up' : 'down',
      redis: this.link.url,
      gateway_id: this.gatewayId,
      on_unavailable: this.mode,
      gateways: [...this.budgets.gateways],
    };
    if (reason !== null) h.reason = reason;
    return h;
  }

  setPort(port: number): void {
    this.identity.setPort(port);
  }

  async close(): Promise<void> {
    this.budgets.stop();
    // the last settles, and the leases handed back, go out before the id is given up
    this.budgets.leases.handBackAll();
    await this.budgets.flushNow();
    await this.identity.resign();
    await this.link.close();
  }

  private onLinkUp(): void {
    void (async () => {
      const c = await this.identity.claim();
      this.onBeat(c);
    })();
  }

  private onBeat(r: ClaimResult): void {
    if (r.kind === 'conflict') {
      if (this.conflict === null) this.log.error('shared_gateway_id_conflict', { error: r.message });
      this.conflict = r.message;
      this.upGauge.set(0);
      return;
    }
    if (r.kind === 'unavailable') return;
    this.conflict = null;
    this.claimed = true;
    this.upGauge.set(this.unusableReason() === null ? 1 : 0);
    // fresh: Redis had no heartbeat of ours (restarted, flushed, or we just came back)
    if (r.kind === 'fresh') this.budgets.leases.lost();
    if (r.kind === 'fresh' || this.stale) {
      this.stale = true;
      void this.converge();
    }
  }
}
