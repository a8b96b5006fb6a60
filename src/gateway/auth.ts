// Master-key check. Both sides are hashed first so timingSafeEqual always compares
// equal lengths and the comparison time says nothing about the key.
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export type AuthCheck = (authorization: string | undefined) => boolean;

const open: AuthCheck = () => true;

/** No key configured: everything passes (the gateway binds to loopback by default). */
export function createAuthCheck(masterKey: string | undefined): AuthCheck {
  if (!masterKey) return open;
  const expected = sha256(`Bearer ${masterKey}`);
  return (authorization) => authorization !== undefined && timingSafeEqual(sha256(authorization), expected);
}
