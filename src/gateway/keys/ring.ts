// The virtual keys the gateway accepts, in memory, by the SHA-256 of the key: a request's lookup
// is one hash and one map read, and comparing hashes says nothing about the key through timing.
// A timer asks the store several times a second whether anything changed (a stat and a pragma
// for keys.db, one GET of a version counter in shared mode's Redis), and reloads only then, so `ptui keys` changes apply within a second without a
// restart. When the store cannot be read (missing, locked, a newer schema, Redis away) the keys
// loaded last stay in force and the reason is logged once and shown in /health until it clears.
import { hashKey } from '../../keys/key.js';
import type { KeyRecord } from '../../keys/schema.js';
import { KeyStoreError, type KeyStore } from '../../keys/store.js';
import type { Logger } from '../log.js';

/** How often the store is asked for changes: well inside the one second a change may take. */
export const KEY_POLL_MS = 250;

export class KeyRing {
  private byHash = new Map<string, KeyRecord>();
  private version: string | null = null;
  private everLoaded = false;
  private everCreated = false;
  /** the store could not be reached before anything was loaded: which keys exist is unknown */
  private unknown = false;
  private problemText: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly listeners: Array<(keys: readonly KeyRecord[]) => void> = [];

  constructor(
    private readonly store: KeyStore,
    private readonly log: Logger,
    private readonly pollMs = KEY_POLL_MS,
  ) {}

  /** Loads the keys once (a missing store is simply no keys), then keeps polling. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.store.close();
  }

  /** Called with every key set loaded after a change (budgets and limits follow the keys). */
  onChange(fn: (keys: readonly KeyRecord[]) => void): void {
    this.listeners.push(fn);
  }

  /** Keys exist, or did: every /v1 request must then carry one (or the master key). */
  get required(): boolean {
    // unknown fails closed: a key nobody can check must not open the gateway to everyone
    return this.everCreated || this.byHash.size > 0 || this.unknown;
  }

  get size(): number {
    return this.byHash.size;
  }

  get keys(): IterableIterator<KeyRecord> {
    return this.byHash.values();
  }

  /** Why the keys in force may be stale; null when the store answered at the last poll. */
  get problem(): string | null {
    return this.problemText;
  }

  /** The unrevoked key with this text, expired or not; the caller checks the shape first. */
  lookup(key: string): KeyRecord | undefined {
    return this.byHash.get(hashKey(key));
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const v = await this.store.version();
      if (v === this.version) return this.clearProblem();
      const set = await this.store.load();
      this.everCreated ||= set.everCreated;
      this.apply(set.unrevoked);
      this.version = v;
      this.clearProblem();
    } catch (err) {
      this.fail(err);
    } finally {
      this.polling = false;
    }
  }

  private apply(keys: readonly KeyRecord[]): void {
    const next = new Map<string, KeyRecord>();
    for (const k of keys) next.set(k.keyHash, k);
    const first = !this.everLoaded;
    this.byHash = next;
    this.everLoaded = true;
    this.unknown = false;
    if (!first || keys.length > 0) this.log.info('keys_loaded', { keys: keys.length, store: this.store.location });
    for (const fn of this.listeners) {
      try {
        fn(keys);
      } catch (err) {
        this.log.error('keys_listener_failed', { error: String(err) });
      }
    }
  }

  private fail(err: unknown): void {
    const e = err instanceof KeyStoreError ? err : new KeyStoreError('unreadable', String(err));
    // No store yet and never had one: simply no keys, nothing to report.
    if (e.code === 'missing' && !this.everLoaded) return;
    if (e.code === 'unreachable' && !this.everLoaded) this.unknown = true;
    // the next good read reloads whatever the store holds then
    this.version = null;
    const text = `${e.message}; keeping the ${this.byHash.size} key(s) loaded last`;
    if (text === this.problemText) return;
    this.problemText = text;
    this.log.error('keys_unavailable', { reason: e.code, error: text });
  }

  private clearProblem(): void {
    if (this.problemText === null) return;
    this.problemText = null;
    this.log.info('keys_available', { keys: this.byHash.size, store: this.store.location });
  }
}
