// The key store in the shared Redis (shared mode, README "Several boxes"): every gateway on that
// Redis accepts the same keys, and `ptui keys` on any box changes them for all. The contract is
// the one runtime/keys.db keeps: SHA-256 hashes only (never a key's text), one active key per
// alias, every change atomic (one script that checks what the caller read is still there), and
// a version counter that moves with every change, which the gateways read several times a second.
//
// Layout:
//   ptui:keys:active    hash  key hash -> the key's record as JSON (keys not revoked)
//   ptui:keys:alias     hash  alias -> hash of its active key
//   ptui:keys:revoked   hash  key hash -> record (history: a revoked key is never accepted again)
//   ptui:keys:version   counter moved by every change; its existence says keys were ever created
//
// Redis may run without persistence (the usage logs are the truth for spend), so a gateway keeps
// a copy of the keys it last read, hashes only, in its runtime dir. It starts from that copy while
// Redis does not answer, and writes it back to a Redis that came back without keys.
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../config/atomic.js';
import { keyRecordSchema, type KeyRecord } from './schema.js';
import { KeyStoreError, type KeySet, type KeyStore, type NewKey } from './store.js';

const P = 'ptui:keys:';
/** A store call that takes longer is treated as Redis not answering. */
const CALL_TIMEOUT_MS = 2000;

// KEYS are spelled inside the scripts (one Redis, not Cluster), as the budget scripts do.
const CREATE_LUA = `
local P = '${P}'
local held = redis.call('HGET', P .. 'alias', ARGV[1])
if held then return {0, redis.call('HGET', P .. 'active', held) or ''} end
if redis.call('HEXISTS', P .. 'active', ARGV[2]) == 1 or redis.call('HEXISTS', P .. 'revoked', ARGV[2]) == 1 then return {2} end
redis.call('HSET', P .. 'active', ARGV[2], ARGV[3])
redis.call('HSET', P .. 'alias', ARGV[1], ARGV[2])
redis.call('INCR', P .. 'version')
return {1}
`;

// ARGV: alias, hash the caller read, its record revoked, then optionally new hash and record.
// Applies only if the alias still points at the hash read (else 0: read again).
const REPLACE_LUA = `
local P = '${P}'
if redis.call('HGET', P .. 'alias', ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', P .. 'active', ARGV[2])
redis.call('HSET', P .. 'revoked', ARGV[2], ARGV[3])
if ARGV[4] then
  if redis.call('HEXISTS', P .. 'revoked', ARGV[4]) == 1 then return 2 end
  redis.call('HSET', P .. 'active', ARGV[4], ARGV[5])
  redis.call('HSET', P .. 'alias', ARGV[1], ARGV[4])
else
  redis.call('HDEL', P .. 'alias', ARGV[1])
end
redis.call('INCR', P .. 'version')
return 1
`;

// Version and every active record in one atomic read.
const LOAD_LUA = `
local P = '${P}'
return {redis.call('GET', P .. 'version') or false, redis.call('HVALS', P .. 'active')}
`;

// Writes a gateway's copy back, only into a Redis that holds no keys at all (restarted empty,
// flushed): the first gateway to get there restores, the others then read what it wrote.
// ARGV: version, then pairs hash, record.
const RESTORE_LUA = `
local P = '${P}'
if redis.call('EXISTS', P .. 'version') == 1 then return 0 end
for i = 2, #ARGV, 2 do
  local rec = cjson.decode(ARGV[i + 1])
  redis.call('HSET', P .. 'active', ARGV[i], ARGV[i + 1])
  redis.call('HSET', P .. 'alias', rec.alias, ARGV[i])
end
redis.call('SET', P .. 'version', ARGV[1])
return 1
`;

type Scripted = Redis & {
  ptuiKeyCreate(...a: string[]): Promise<unknown>;
  ptuiKeyReplace(...a: string[]): Promise<unknown>;
  ptuiKeyLoad(): Promise<unknown>;
  ptuiKeyRestore(...a: string[]): Promise<unknown>;
};

/** What a gateway keeps of the keys it last read: enough to serve and to restore. */
interface Copy {
  version: string;
  keys: KeyRecord[];
}

const iso = (ms: number) => new Date(ms).toISOString();

function decode(text: unknown): KeyRecord | null {
  try {
    const r = keyRecordSchema.safeParse(JSON.parse(String(text)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function readCopy(file: string | null): Copy | null {
  if (!file) return null;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown; keys?: unknown };
    if (typeof raw.version !== 'string' || !/^\d+$/.test(raw.version) || !Array.isArray(raw.keys)) return null;
    const keys = raw.keys.map((k) => keyRecordSchema.safeParse(k)).filter((r) => r.success).map((r) => r.data);
    return { version: raw.version, keys };
  } catch {
    return null;
  }
}

export class RedisKeyStore implements KeyStore {
  private readonly r: Scripted;
  private copy: Copy | null;
  /** Redis has answered a load in this process: from then on its absence is an error, not a cue to use the copy */
  private loadedFromRedis = false;
  /** records that failed validation at the last read (skipped: such a key authenticates nobody) */
  invalidRows = 0;

  /**
   * @param client a connected ioredis client (the gateway's shared link, or the CLI's own)
   * @param location what messages call the store (`Redis at redis://10.0.0.5:6379`)
   * @param copyFile where a gateway keeps its copy (null for `ptui keys`, which keeps none)
   */
  constructor(
    client: Redis,
    readonly location: string,
    private readonly copyFile: string | null = null,
    private readonly onClose: () => void = () => {},
  ) {
    const define = (name: string, lua: string) => {
      if (!(name in client)) client.defineCommand(name, { numberOfKeys: 0, lua });
    };
    define('ptuiKeyCreate', CREATE_LUA);
    define('ptuiKeyReplace', REPLACE_LUA);
    define('ptuiKeyLoad', LOAD_LUA);
    define('ptuiKeyRestore', RESTORE_LUA);
    this.r = client as Scripted;
    this.copy = readCopy(copyFile);
  }

  /** One command, at most CALL_TIMEOUT_MS; any failure is `unreachable` with the reason. */
  private async call<T>(run: (r: Scripted) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    });
    const pending = run(this.r);
    pending.catch(() => {});
    try {
      return await Promise.race([pending, late]);
    } catch (err) {
      throw new KeyStoreError('unreachable', `cannot reach the keys in ${this.location}: ${(err as Error).message.split('\n')[0]!.slice(0, 160)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async active(alias: string): Promise<KeyRecord | null> {
    const hash = await this.call((r) => r.hget(`${P}alias`, alias));
    if (hash === null) return null;
    const rec = decode(await this.call((r) => r.hget(`${P}active`, hash)));
    if (!rec) throw new KeyStoreError('unreadable', `${this.location}: the record of key "${alias}" is not valid`);
    return rec;
  }

  private async noSuchAlias(alias: string): Promise<KeyStoreError> {
    const revoked = (await this.call((r) => r.hvals(`${P}revoked`))).some((t) => decode(t)?.alias === alias);
    return new KeyStoreError('no_such_alias', revoked ? `key "${alias}" is already revoked` : `no key with alias "${alias}" (see ptui keys list)`);
  }

  async create(k: NewKey, nowMs: number): Promise<KeyRecord> {
    const rec: KeyRecord = keyRecordSchema.parse({ alias: k.alias, keyHash: k.keyHash, createdAt: nowMs, expiresAt: k.expiresAt, revokedAt: null, limits: k.limits });
    const reply = (await this.call((r) => r.ptuiKeyCreate(k.alias, k.keyHash, JSON.stringify(rec)))) as unknown[];
    if (Number(reply[0]) === 1) return rec;
    if (Number(reply[0]) === 2) throw new KeyStoreError('unreadable', 'a key with this hash already exists (generate another)');
    const held = decode(reply[1]);
    const expired = held?.expiresAt != null && held.expiresAt <= nowMs;
    throw new KeyStoreError(
      'alias_taken',
      `a key with alias "${k.alias}" already exists${expired ? ' (expired)' : ''}; revoke it first, or rotate it for a new key with the same limits`,
    );
  }

  /** Revokes the alias's key and, for rotate, puts `next` in its place; retried if the alias changed meanwhile. */
  private async replace(alias: string, nowMs: number, next: ((old: KeyRecord) => KeyRecord) | null): Promise<KeyRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const old = await this.active(alias);
      if (!old) throw await this.noSuchAlias(alias);
      const revoked = { ...old, revokedAt: nowMs };
      const fresh = next ? next(old) : null;
      const args = [alias, old.keyHash, JSON.stringify(revoked), ...(fresh ? [fresh.keyHash, JSON.stringify(fresh)] : [])];
      const done = Number(await this.call((r) => r.ptuiKeyReplace(...args)));
      if (done === 1) return fresh ?? revoked;
      if (done === 2) throw new KeyStoreError('unreadable', 'a key with this hash was revoked before (generate another)');
    }
    throw new KeyStoreError('locked', `key "${alias}" kept changing under this command; try again`);
  }

  revoke(alias: string, nowMs: number): Promise<KeyRecord> {
    return this.replace(alias, nowMs, null);
  }

  rotate(alias: string, newHash: string, nowMs: number): Promise<KeyRecord> {
    return this.replace(alias, nowMs, (old) => {
      if (old.expiresAt !== null && old.expiresAt <= nowMs) {
        throw new KeyStoreError('expired', `key "${alias}" expired at ${iso(old.expiresAt)}; revoke it and create a new one with a new expiry`);
      }
      return { ...old, keyHash: newHash, createdAt: nowMs, revokedAt: null };
    });
  }

  async load(): Promise<KeySet> {
    return this.read(true);
  }

  private async read(mayRestore: boolean): Promise<KeySet> {
    let reply: unknown[];
    try {
      reply = (await this.call((r) => r.ptuiKeyLoad())) as unknown[];
    } catch (err) {
      // a gateway starting while Redis is away serves the keys it saw last
      if (!this.loadedFromRedis && this.copy) return { unrevoked: this.copy.keys, everCreated: true };
      throw err;
    }
    const version = reply[0] === null || reply[0] === false ? null : String(reply[0]);
    // Redis without keys: put this gateway's copy back, then read what is there (ours, or the
    // copy of a gateway that got there first), never the empty set in between
    if (version === null && mayRestore && this.copyFile && this.copy && this.copy.keys.length > 0) {
      await this.restore();
      return this.read(false);
    }
    const out: KeyRecord[] = [];
    let invalid = 0;
    for (const text of Array.isArray(reply[1]) ? reply[1] : []) {
      const rec = decode(text);
      if (rec && rec.revokedAt === null) out.push(rec);
      else invalid++;
    }
    out.sort((a, b) => a.alias.localeCompare(b.alias));
    this.invalidRows = invalid;
    this.loadedFromRedis = true;
    if (version !== null) this.keep({ version, keys: out });
    return { unrevoked: out, everCreated: version !== null };
  }

  async version(): Promise<string> {
    try {
      const v = await this.call((r) => r.get(`${P}version`));
      // Redis without keys while this gateway has a copy: load() restores it
      if (v === null && this.copyFile && this.copy && this.copy.keys.length > 0) return `restore:${Date.now()}`;
      return `redis:${v ?? 'none'}`;
    } catch (err) {
      if (!this.loadedFromRedis && this.copy) return `copy:${this.copy.version}`;
      throw err;
    }
  }

  /** Writes this gateway's copy into a Redis that holds no keys (a no-op when another gateway did first). */
  private async restore(): Promise<void> {
    const args = [this.copy!.version];
    for (const k of this.copy!.keys) args.push(k.keyHash, JSON.stringify(k));
    await this.call((r) => r.ptuiKeyRestore(...args));
  }

  private keep(copy: Copy): void {
    if (!this.copyFile) return;
    const text = JSON.stringify(copy);
    if (this.copy && JSON.stringify(this.copy) === text) return;
    this.copy = copy;
    try {
      writeFileAtomic(this.copyFile, `${text}\n`, 0o600);
    } catch {
      // the copy is a convenience: Redis stays the store
    }
  }

  close(): void {
    this.onClose();
  }
}
