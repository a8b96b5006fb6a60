// The gateway's own routes, answered without the callback pipeline: /health, /health/targets,
// /metrics, /v1/models, /budgets, and the 404 and 401 answers. /health also proves who this
// gateway is: asked with a challenge header, it answers with HMAC(instance secret, challenge),
// so the console sends its master key only to the gateway recorded in its runtime dir.
import type http from 'node:http';
import { requestUrl } from '../../engines/undici-lite.js';
import type { BudgetStatus, Target } from '../../config/schema.js';
import { resolveModel } from '../body.js';
import type { Routing } from '../routing/routing.js';
import { GatewayError, unauthorized } from '../errors.js';
import { modelIdIn, pathOf } from '../router.js';
import type { GatewayMetrics } from '../metrics.js';
import { checkModelAllowed, refuseKeyInUrl, type Identity, type KeyLookup } from '../auth.js';
import type { Snapshot } from '../snapshot.js';
import { describeUpstreamError } from '../upstream.js';
import type { UsageLog } from '../../usage/log.js';
import { usdReplacer } from '../../usage/money.js';
import type { SharedHealth } from '../shared/state.js';
import { INSTANCE_CHALLENGE_HEADER, INSTANCE_CHALLENGE_RE, INSTANCE_PROOF_HEADER, instanceProof } from '../../config/instance-record.js';
import { JSON_TYPE, sendText } from './reply.js';

export interface BudgetSource {
  status(): BudgetStatus[];
}

/** Shared mode's state: Redis up or down (and why), this gateway's id, the gateways sharing it. */
export interface SharedSource {
  health(): SharedHealth;
}

/** What the admin routes read; the server owns it. */
export interface AdminState {
  readonly version: string;
  readonly startedAt: number;
  readonly configError: string | null;
  readonly usage: UsageLog;
  readonly metrics: GatewayMetrics;
  readonly budgets: BudgetSource | null;
  readonly shared: SharedSource | null;
  /** the secret of this instance's record in the runtime dir; null when none was made */
  readonly instanceSecret: string | null;
  /** why the virtual keys in force may be stale (keys.db missing, locked, newer) */
  readonly keys: { readonly problem: string | null };
}

const PROBE_TIMEOUT_MS = 2000;

const round = (ms: number) => Math.round(ms * 1000) / 1000;

const sendError = (res: http.ServerResponse, ge: GatewayError) => sendText(res, ge.status, JSON_TYPE, JSON.stringify(ge));

export function notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = (req.url ?? '/').split('?')[0].slice(0, 200);
  sendError(res, new GatewayError(404, 'not_found', `no route for ${req.method} ${url}`));
}

export function sendUnauthorized(res: http.ServerResponse): void {
  sendError(res, unauthorized());
}

/** An operator route refused: without a master key only loopback clients reach them. */
export function sendOperatorDenied(res: http.ServerResponse, snap: Snapshot): void {
  if (snap.config.gateway.master_key) return sendUnauthorized(res);
  sendError(res, unauthorized('operator endpoints answer loopback clients only while no master key is set'));
}

export function health(state: AdminState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const usageError = state.usage.degradedReason;
  const shared = state.shared?.health();
  const keysError = state.keys.problem;
  const body: Record<string, unknown> = {
    status: state.configError || usageError || shared?.reason || keysError ? 'degraded' : 'ok',
    version: state.version,
    uptime_s: Math.floor((Date.now() - state.startedAt) / 1000),
  };
  if (state.configError) body.config_error = state.configError;
  if (usageError) body.usage_log_error = usageError;
  if (shared) body.shared = shared;
  if (keysError) body.keys_error = keysError;
  const text = JSON.stringify(body);
  const challenge = req.headers[INSTANCE_CHALLENGE_HEADER];
  if (state.instanceSecret && typeof challenge === 'string' && INSTANCE_CHALLENGE_RE.test(challenge)) {
    res.setHeader(INSTANCE_PROOF_HEADER, instanceProof(state.instanceSecret, challenge));
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end();
    return;
  }
  sendText(res, 200, JSON_TYPE, text);
}

export async function metrics(state: AdminState, res: http.ServerResponse): Promise<void> {
  const reg = state.metrics.registry;
  try {
    sendText(res, 200, reg.contentType, await reg.metrics());
  } catch (err) {
    sendError(res, new GatewayError(500, 'internal_error', `metrics failed: ${String(err)}`));
  }
}

/** The /v1 identity of a model lookup (master or virtual key), or null once the refusal is sent. */
function identify(snap: Snapshot, keys: KeyLookup, req: http.IncomingMessage, res: http.ServerResponse): Identity | null {
  try {
    refuseKeyInUrl(req.url);
    return snap.authenticator.identify(req.headers.authorization, keys, Date.now());
  } catch (err) {
    sendError(res, err as GatewayError);
    return null;
  }
}

/** The logical models; a virtual key with a model list sees only those. */
export function models(snap: Snapshot, keys: KeyLookup, req: http.IncomingMessage, res: http.ServerResponse): void {
  const who = identify(snap, keys, req, res);
  if (who === null) return;
  const allowed = who.kind === 'key' ? who.key.limits.models : undefined;
  if (!allowed) return sendText(res, 200, JSON_TYPE, snap.modelsJson);
  const list = JSON.parse(snap.modelsJson) as { object: string; data: Array<{ id: string }> };
  list.data = list.data.filter((m) => allowed.includes(m.id));
  sendText(res, 200, JSON_TYPE, JSON.stringify(list));
}

/** GET /v1/models/{id}: one logical model in OpenAI's shape, or 404 model_not_found. */
export function model(snap: Snapshot, keys: KeyLookup, req: http.IncomingMessage, res: http.ServerResponse): void {
  const who = identify(snap, keys, req, res);
  if (who === null) return;
  const id = modelIdIn(pathOf(req.url ?? '/'))!;
  try {
    checkModelAllowed(who.kind === 'key' ? who.key : null, id);
    resolveModel(snap.config, id);
  } catch (err) {
    return sendError(res, err as GatewayError);
  }
  sendText(res, 200, JSON_TYPE, snap.modelJson.get(id)!);
}

export function budgets(state: AdminState, res: http.ServerResponse): void {
  const body: Record<string, unknown> = { budgets: state.budgets ? state.budgets.status() : [] };
  if (state.shared) body.shared = state.shared.health();
  sendText(res, 200, JSON_TYPE, JSON.stringify(body, usdReplacer));
}

/** Probes every provider once (health_url, else <api_base>/models) and reports per provider and per target. */
export async function healthTargets(snap: Snapshot, res: http.ServerResponse, routing: Routing): Promise<void> {
  const providers = Object.entries(snap.config.providers);
  const results = await Promise.all(
    providers.map(async ([name, p]) => {
      const url = p.health_url ?? `${p.api_base.replace(/\/+$/, '')}/models`;
      const t0 = performance.now();
      try {
        const headers: Record<string, string> = {};
        if (!p.health_url && p.api_key) headers.authorization = `Bearer ${p.api_key}`;
        const r = await requestUrl(url, {
          method: 'GET',
          headers,
          headersTimeout: PROBE_TIMEOUT_MS,
          bodyTimeout: PROBE_TIMEOUT_MS,
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS + 500),
        });
        await r.body.dump();
        return { provider: name, url: redactUrl(url), ok: r.statusCode < 400, status: r.statusCode, latency_ms: round(performance.now() - t0) };
      } catch (err) {
        return {
          provider: name,
          url: redactUrl(url),
          ok: false,
          status: null,
          latency_ms: round(performance.now() - t0),
          error: describeUpstreamError(err),
        };
      }
    }),
  );
  // The routing state (active, cooling_down, draining, drained) beside each probe result.
  const state = new Map(routing.views(snap.config).map((v) => [v.name, v]));
  const withState = results.map((r) => ({ ...r, routing: state.get(r.provider) ?? null }));
  const byProvider = new Map(results.map((r) => [r.provider, r]));
  const targets: Array<Record<string, unknown>> = [];
  for (const [model, m] of Object.entries(snap.config.models)) {
    const add = (t: Target, i: number, fallback: boolean) => {
      const r = byProvider.get(t.provider);
      const view = state.get(t.provider);
      targets.push({ model, order: i, provider: t.provider, concrete_model: t.model, fallback, ok: r?.ok ?? false, state: view?.state ?? 'active' });
    };
    m.targets.forEach((t, i) => add(t, i, false));
    (m.fallbacks ?? []).forEach((t, i) => add(t, m.targets.length + i, true));
  }
  sendText(res, 200, JSON_TYPE, JSON.stringify({ providers: withState, targets }));
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}
