// Master-key check (README.md, "Gateway HTTP API"). Both sides are hashed first so timingSafeEqual always compares
// equal lengths and the comparison time says nothing about the key.
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export type AuthCheck = (authorization: string | undefined) => boolean;

const open: AuthCheck = () => true;

/** No key configured: everything passes (the gateway binds to loopback by default). */
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
