// The gateway's HTTP server: node:http, no framework. It listens, dispatches each request by
// route (admin routes in admin.ts, LLM requests to an Exchange), counts requests in flight and
// drains them on shutdown. A new config becomes a new Snapshot; requests keep the one they
// started with.
import { findSecrets } from '../../security/scan.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from '../../config/load.js';
import type { UsageLog } from '../../usage/log.js';
import { Context, type Endpoint } from '../context.js';
import { timeOrderedId } from '../request-id.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CallbackManager } from '../pipeline.js';
import { isLlmRoute, route } from '../router.js';
import { Snapshot } from '../snapshot.js';
import type { KeyRing } from '../keys/ring.js';
import type { Upstreams } from '../upstream.js';
import { operatorAllowed } from '../operator.js';
import type { Routing } from '../routing/routing.js';
import * as admin from './admin.js';
import { Exchange } from './exchange.js';
import * as ops from './operator-routes.js';

export type { BudgetSource } from './admin.js';

export interface GatewayServerOptions {
  manager: CallbackManager;
  budgets: admin.BudgetSource | null;
  usage: UsageLog;
  metrics: GatewayMetrics;
  upstreams: Upstreams;
  routing: Routing;
  /** the virtual keys in force */
  keys: KeyRing;
  log: Logger;
  version: string;
  /** shared mode: its state shows in /health and /budgets */
  shared?: admin.SharedSource;
  /** proves this instance on /health (the record's secret); absent: no proofs */
  instanceSecret?: string;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

// Slow clients (slowloris) must not hold sockets: Node's defaults are 60 s for headers and 300 s
// for the whole request, checked every 30 s. Bodies are at most max_body_bytes (10 MB by default),
// which a client on any working link sends well within REQUEST_TIMEOUT_MS. Responses are not
// bounded by these (a long stream is fine once the request is in).
export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 60_000;
const CONNECTIONS_CHECK_MS = 1000;

export class GatewayServer implements admin.AdminState {
  readonly http: http.Server;
  private snapshot: Snapshot;
  private configProblem: string | null = null;
  private inflight = 0;
  private drained: (() => void) | null = null;
  readonly startedAt = Date.now();
  readonly version: string;
  readonly usage: UsageLog;
  readonly metrics: GatewayMetrics;
  readonly budgets: admin.BudgetSource | null;
  readonly shared: admin.SharedSource | null;
  readonly instanceSecret: string | null;
  readonly keys: KeyRing;

  constructor(
    private readonly opts: GatewayServerOptions,
    config: ResolvedConfig,
  ) {
    this.version = opts.version;
    this.usage = opts.usage;
    this.metrics = opts.metrics;
    this.budgets = opts.budgets;
    this.shared = opts.shared ?? null;
    this.instanceSecret = opts.instanceSecret ?? null;
    this.keys = opts.keys;
    this.snapshot = new Snapshot(config, opts.upstreams.update(config.providers));
    opts.metrics.readInFlightFrom(() => opts.routing.states.inFlightByProvider());
    this.http = http.createServer(
      {
        keepAliveTimeout: 65_000,
        noDelay: true,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      },
      this.onRequest,
    );
  }

  /** the last config change that failed to load, until a valid one arrives */
  get configError(): string | null {
    return this.configProblem;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** A new valid config: new requests use it, requests in flight keep theirs. */
  applyConfig(config: ResolvedConfig): void {
    this.snapshot = new Snapshot(config, this.opts.upstreams.update(config.providers));
    this.configProblem = null;
  }

  setConfigError(message: string | null): void {
    this.configProblem = message;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (at most graceMs), then drops the rest. */
  async shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    this.http.closeIdleConnections();
    await this.waitForIdle(graceMs);
    // Requests still running are cut; give them a moment to record their client_closed rows
    // before the caller closes the usage log.
    this.http.closeAllConnections();
    await this.waitForIdle(2000);
    await closed;
  }

  private waitForIdle(ms: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.drained = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
    });
  }

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const startMono = performance.now();
    const r = route(req.method, req.url);
    if (r === undefined) return admin.notFound(req, res);
    if (isLlmRoute(r)) {
      void this.handleLlm(req, res, r, startMono);
      return;
    }
    const snap = this.snapshot;
    switch (r) {
      case 'health':
        return admin.health(this, req, res);
      case 'metrics':
        void admin.metrics(this, res);
        return;
      case 'health_targets':
        // it probes every provider with its key: an operator endpoint (the master key, else loopback only)
        if (!operatorAllowed(req, snap)) return admin.sendOperatorDenied(res, snap);
        void admin.healthTargets(snap, res, this.opts.routing);
        return;
      case 'models':
        return admin.models(snap, this.keys, req, res);
      case 'model':
        return admin.model(snap, this.keys, req, res);
      case 'budgets':
        if (!snap.auth(req.headers.authorization)) return admin.sendUnauthorized(res);
        return admin.budgets(this, res);
    }
    if (!operatorAllowed(req, snap)) return admin.sendOperatorDenied(res, snap);
    const routing = this.opts.routing;
    switch (r) {
      case 'engines':
        return ops.engines(routing.engines, res);
      case 'admin_providers':
        return ops.adminProviders(routing, snap, res);
      case 'admin_provider_action': {
        const action = ops.providerAction(req.url);
        if (!action) return admin.notFound(req, res);
        return ops.providerDrain(routing, snap, this.opts.log, action, res);
      }
    }
  };

  private async handleLlm(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, startMono: number) {
    const snap = this.snapshot;
    const idHeader = req.headers['x-request-id'];
    // A client's id is kept unless it looks like a secret: it goes to the log, the usage log and upstream.
    const requestId = typeof idHeader === 'string' && REQUEST_ID_RE.test(idHeader) && findSecrets(idHeader).length === 0 ? idHeader : timeOrderedId();
    const ctx = new Context(requestId, endpoint, req.headers, snap.config, startMono);
    this.inflight++;
    try {
      await new Exchange(this.opts.manager, this.opts.log, snap, this.keys, ctx, req, res, this.opts.routing).run();
    } catch (err) {
      this.opts.log.error('request_failed', { request_id: requestId, error: String(err) });
    } finally {
      if (--this.inflight === 0 && this.drained) this.drained();
    }
  }
}
