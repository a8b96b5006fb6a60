// The operator's routes for engines and routing: GET /engines (each engine's live figures with
// their scrape age), GET /admin/providers (routing state and in-flight counts per provider) and
// POST /admin/providers/{name}/drain|undrain. Callers are checked by operatorAllowed first.
import type http from 'node:http';
import type { EngineMonitor } from '../../engines/monitor.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Routing } from '../routing/routing.js';
import type { Snapshot } from '../snapshot.js';
import { JSON_TYPE, sendText } from './reply.js';

const PROVIDER_ACTION_RE = /^\/admin\/providers\/([^/?]{1,200})\/(drain|undrain)\/?(?:\?.*)?$/;

/** `POST /admin/providers/{name}/drain|undrain` → its parts; undefined for any other URL. */
export function providerAction(url: string | undefined): { name: string; action: 'drain' | 'undrain' } | undefined {
  const m = url ? PROVIDER_ACTION_RE.exec(url) : null;
  if (!m) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  return { name, action: m[2] as 'drain' | 'undrain' };
}

const send = (res: http.ServerResponse, status: number, body: unknown) => sendText(res, status, JSON_TYPE, JSON.stringify(body));

export function engines(monitor: EngineMonitor, res: http.ServerResponse): void {
  send(res, 200, monitor.report());
}

export function adminProviders(routing: Routing, snap: Snapshot, res: http.ServerResponse): void {
  send(res, 200, { providers: routing.views(snap.config) });
}

export function providerDrain(
  routing: Routing,
  snap: Snapshot,
  log: Logger,
  action: { name: string; action: 'drain' | 'undrain' },
  res: http.ServerResponse,
): void {
  const { name } = action;
  if (!Object.hasOwn(snap.config.providers, name)) {
    const shown = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
    const known = Object.keys(snap.config.providers).join(', ');
    const ge = new GatewayError(404, 'not_found', `unknown provider "${shown}" (known: ${known})`);
    return sendText(res, 404, JSON_TYPE, JSON.stringify(ge));
  }
  routing.states.setDrained(name, action.action === 'drain');
  const view = routing.view(name, snap.config);
  log.info(action.action === 'drain' ? 'provider_drained' : 'provider_undrained', { provider: name, in_flight: view.in_flight });
  send(res, 200, view);
}
