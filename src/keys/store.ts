// Where virtual keys live. The command line and the gateway see keys only through KeyStore, so
// another backing store (a shared one for several gateways) can replace the SQLite file without
// touching either. Every method is async for that reason, though SQLite answers synchronously.
import type { KeyLimits, KeyRecord } from './schema.js';

export interface NewKey {
  alias: string;
  keyHash: string;
  expiresAt: number | null;
  limits: KeyLimits;
}

export interface KeySet {
  unrevoked: KeyRecord[];
  /**
   * Whether any key was ever created here, revoked ones included. Once one was, requests need a
   * key for good: revoking the last key must not open the gateway to everyone.
   */
  everCreated: boolean;
}

/** `unreachable`: the store is on another machine (shared mode's Redis) that does not answer now. */
export type KeyStoreErrorCode = 'alias_taken' | 'no_such_alias' | 'expired' | 'missing' | 'locked' | 'schema_too_new' | 'unreadable' | 'unreachable';

/** A failure with a sentence fit for an operator; `code` lets callers decide what to do. */
export class KeyStoreError extends Error {
  constructor(
    readonly code: KeyStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KeyStoreError';
  }
}

export interface KeyStore {
  /** where the keys are, for messages (`runtime/keys.db`) */
  readonly location: string;
  /** Adds a key under an alias no active key holds (else `alias_taken`). */
  create(key: NewKey, nowMs: number): Promise<KeyRecord>;
  /** Revokes the active key of an alias (else `no_such_alias`); returns it as revoked. */
  revoke(alias: string, nowMs: number): Promise<KeyRecord>;
  /** Atomically revokes the alias's key and adds `newHash` with the same alias, limits and expiry. */
  rotate(alias: string, newHash: string, nowMs: number): Promise<KeyRecord>;
  /** Every key not revoked (expired ones included: the caller decides what expiry means to it). */
  load(): Promise<KeySet>;
  /**
   * A token that changes whenever the keys may have changed, cheap enough to ask several times
   * a second. Throws KeyStoreError when the store cannot be read right now.
   */
  version(): Promise<string>;
  close(): void;
}
