// Who a request is. The master key is compared after hashing both sides, so timingSafeEqual
// always compares equal lengths and the time says nothing about the key; a virtual key is looked
// up by its SHA-256, never compared as text. `Authorization: Bearer <key>`, scheme in any case, one space.
import { hash, timingSafeEqual } from 'node:crypto';
import { KEY_IN_TEXT_RE, KEY_RE } from '../keys/key.js';
import type { KeyRecord } from '../keys/schema.js';
import { GatewayError, unauthorized } from './errors.js';

const sha256 = (s: string): Buffer => hash('sha256', s, 'buffer');

export type AuthCheck = (authorization: string | undefined) => boolean;

const open: AuthCheck = () => true;

/** The operator endpoints: the master key only. No key configured: everything passes (the gateway binds to loopback by default). */
export function createAuthCheck(masterKey: string | undefined): AuthCheck {
  if (!masterKey) return open;
  const expected = sha256(masterKey);
  return (authorization) => {
    const key = bearerToken(authorization);
    return key !== null && timingSafeEqual(sha256(key), expected);
  };
}

/** The key of `Bearer <key>`: the scheme in any case, one space, then everything after it. */
export function bearerToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string' || authorization.length < 8 || authorization.charCodeAt(6) !== 32) return null;
  return authorization.slice(0, 6).toLowerCase() === 'bearer' ? authorization.slice(7) : null;
}

/** Who a /v1 request is: nobody needed (no master key, no virtual keys), the master key, or a key. */
export type Identity = { kind: 'open' } | { kind: 'master' } | { kind: 'key'; key: KeyRecord };

const OPEN: Identity = Object.freeze({ kind: 'open' });
const MASTER: Identity = Object.freeze({ kind: 'master' });

/** What a request may be checked against: the keys in force, and whether any exist. */
export interface KeyLookup {
  readonly required: boolean;
  lookup(key: string): KeyRecord | undefined;
}

// Query parameters that carry credentials in other APIs; a key there lands in access logs.
const CREDENTIAL_PARAM_RE = /(?:^|&)(?:api[-_]?key|key|token|access[-_]?token|auth|authorization|bearer)=/i;


/**
 * Refuses a request that carries a credential in its URL, whatever else it sends: query strings
 * end up in proxy and access logs. The key itself is never repeated (not in the answer, not in
 * a log line).
 */
export function refuseKeyInUrl(url: string | undefined): void {
  const q = url?.indexOf('?') ?? -1;
  if (q < 0) return;
  const query = url!.slice(q + 1);
  let decoded = query;
  try {
    decoded = decodeURIComponent(query);
  } catch {
    // undecodable escapes: check the raw text
  }
  if (CREDENTIAL_PARAM_RE.test(query) || KEY_IN_TEXT_RE.test(decoded)) {
    throw unauthorized('API keys are not accepted in the URL (URLs end up in logs); send Authorization: Bearer <key>, and rotate a key sent this way');
  }
}

/** Master-key and virtual-key authentication for /v1 requests. */
export class Authenticator {
  private readonly masterHash: Buffer | null;

  constructor(masterKey: string | undefined) {
    this.masterHash = masterKey ? sha256(masterKey) : null;
  }

  /** The caller's identity, or a 401 GatewayError. */
  identify(authorization: string | undefined, keys: KeyLookup, nowMs: number): Identity {
    const required = this.masterHash !== null || keys.required;
    if (!required) return OPEN;
    const token = bearerToken(authorization);
    if (token === null) {
      throw unauthorized(typeof authorization !== 'string' ? 'missing API key (send Authorization: Bearer <key>)' : 'malformed Authorization header (expected: Bearer <key>)');
    }
    if (this.masterHash !== null && timingSafeEqual(sha256(token), this.masterHash)) return MASTER;
    if (!KEY_RE.test(token)) throw unauthorized('invalid API key');
    const key = keys.lookup(token);
    if (key === undefined) throw unauthorized('invalid API key (unknown or revoked)');
    if (key.expiresAt !== null && nowMs >= key.expiresAt) throw unauthorized(`API key expired at ${new Date(key.expiresAt).toISOString()}`);
    return { kind: 'key', key };
  }
}

/** A virtual key with a model list may use those models only (403 before the model is even looked up). */
export function checkModelAllowed(key: KeyRecord | null, model: unknown): void {
  const allowed = key?.limits.models;
  if (!allowed || typeof model !== 'string' || allowed.includes(model)) return;
  const shown = model.length > 100 ? `${model.slice(0, 100)}…` : model;
  throw new GatewayError(403, 'model_not_allowed', `this API key may not use model "${shown}" (allowed: ${allowed.join(', ')})`, 'model');
}
