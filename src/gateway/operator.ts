// Who may reach the operator endpoints (/engines, /admin/...): the master key when one is set,
// and otherwise only clients on this machine's loopback. A virtual key never does.
import type http from 'node:http';
import { createAuthCheck, type AuthCheck } from './auth.js';
import type { Snapshot } from './snapshot.js';

const masterChecks = new WeakMap<Snapshot, AuthCheck>();

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function operatorAllowed(req: http.IncomingMessage, snap: Snapshot): boolean {
  const key = snap.config.gateway.master_key;
  if (!key) return isLoopback(req.socket.remoteAddress);
  let check = masterChecks.get(snap);
  if (!check) masterChecks.set(snap, (check = createAuthCheck(key)));
  return check(req.headers.authorization);
}
