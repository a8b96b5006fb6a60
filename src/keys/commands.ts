// `ptui keys create | list | revoke | rotate`. A key is printed once, alone on stdout, so a
// script can capture it (`KEY=$(ptui keys create --alias app)`); everything said about it goes
// to stderr. Usage errors exit 2 (as every ptui usage error), refusals of the store exit 1.
import { loadConfig, type LoadOptions } from '../config/load.js';
import { table } from '../config/print.js';
import { closest } from '../config/suggest.js';
import type { Paths } from '../config/paths.js';
import { windowSeconds, type Budget, type SharedConfig } from '../config/schema.js';
import { openReaderDb, UsageDbMissingError, type Db } from '../usage/db.js';
import { keyLastUsed, keySpend } from '../usage/key-spend.js';
import { usdReplacer } from '../usage/money.js';
import { generateKey, hashKey } from './key.js';
import { isActive, keyLimitsSchema, type KeyLimits, type KeyRecord } from './schema.js';
import { SqliteKeyStore } from './sqlite.js';
import { KeyStoreError, type KeyStore } from './store.js';

export interface CreateInput {
  alias: string;
  limits: KeyLimits;
  expiresAt: number | null;
}

/** The store ptui keys use for this home: shared mode's Redis when gateway.yaml has `shared:`, else runtime/keys.db. */
export async function openKeyStore(paths: Paths, shared: SharedConfig | undefined): Promise<KeyStore> {
  if (!shared) return SqliteKeyStore.openWriter(paths.keysDb);
  const { openRedisKeyStore } = await import('./redis-connect.js');
  return openRedisKeyStore(shared, paths.home);
}

function fail(command: string, err: unknown): number {
  const message = err instanceof KeyStoreError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`ptui keys ${command}: ${message}\n`);
  return 1;
}

/** Loads the config for its paths; the models are checked when the config is valid. */
function context(opts: LoadOptions) {
  const loaded = loadConfig(opts);
  return { paths: loaded.paths, models: loaded.config ? Object.keys(loaded.config.models) : null, shared: loaded.config?.gateway.shared };
}

async function withStore<T>(opts: LoadOptions, command: string, fn: (store: KeyStore, models: string[] | null) => Promise<T>): Promise<T | number> {
  const { paths, models, shared } = context(opts);
  let store: KeyStore;
  try {
    store = await openKeyStore(paths, shared);
  } catch (err) {
    return fail(command, err);
  }
  try {
    return await fn(store, models);
  } catch (err) {
    return fail(command, err);
  } finally {
    store.close();
  }
}

function describeLimits(l: KeyLimits): string {
  const parts: string[] = [];
  if (l.budget) parts.push(`budget $${l.budget.max_budget_usd} per ${l.budget.budget_window} (${l.budget.action})`);
  if (l.rpm) parts.push(`${l.rpm} requests/min`);
  if (l.tpm) parts.push(`${l.tpm} tokens/min`);
  if (l.models) parts.push(`models ${l.models.join(', ')}`);
  return parts.length ? parts.join(', ') : 'no limits';
}

function announce(verb: string, rec: KeyRecord, key: string): void {
  process.stdout.write(`${key}\n`);
  const expiry = rec.expiresAt === null ? 'never expires' : `expires ${new Date(rec.expiresAt).toISOString()}`;
  process.stderr.write(
    `${verb} key "${rec.alias}" (${describeLimits(rec.limits)}; ${expiry}).\n` +
      'This is the only time the key is shown: only its SHA-256 is stored. The gateway accepts it within a second.\n',
  );
}

export async function runKeysCreate(opts: LoadOptions, input: CreateInput): Promise<number> {
  return withStore(opts, 'create', async (store, models) => {
    const unknown = models ? (input.limits.models ?? []).filter((m) => !models.includes(m)) : [];
    if (unknown.length > 0) {
      const hints = unknown.map((m) => {
        const guess = closest(m, models!);
        return `"${m}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
      });
      process.stderr.write(`ptui keys create: --models: unknown model ${hints.join(', ')} (known: ${models!.join(', ')})\n`);
      return 2;
    }
    const key = generateKey();
    const rec = await store.create({ alias: input.alias, keyHash: hashKey(key), expiresAt: input.expiresAt, limits: input.limits }, Date.now());
    announce('Created', rec, key);
    return 0;
  });
}

export async function runKeysRevoke(opts: LoadOptions, alias: string): Promise<number> {
  return withStore(opts, 'revoke', async (store) => {
    const rec = await store.revoke(alias, Date.now());
    process.stderr.write(`Revoked key "${rec.alias}"; the gateway refuses it within a second.\n`);
    return 0;
  });
}

export async function runKeysRotate(opts: LoadOptions, alias: string): Promise<number> {
  return withStore(opts, 'rotate', async (store) => {
    const key = generateKey();
    const rec = await store.rotate(alias, hashKey(key), Date.now());
    announce('Rotated', rec, key);
    process.stderr.write('The old key is revoked.\n');
    return 0;
  });
}

/** Windows every listing shows spend for, besides the key's own budget window. */
const LIST_WINDOWS = ['1h', '1d', '30d'];

export interface KeyListing {
  alias: string;
  status: 'active' | 'expired';
  created: string;
  expires: string | null;
  last_used: string | null;
  rpm: number | null;
  tpm: number | null;
  models: string[] | null;
  budget: (Budget & { spend_usd: number | null; remaining_usd: number | null }) | null;
  /** spend per window, null when the usage log cannot be read */
  spend_usd: Record<string, number | null>;
}

/** The usage log, 'none' when there is none yet (nothing spent), null when it cannot be read. */
function usageDb(path: string): Db | 'none' | null {
  try {
    return openReaderDb(path);
  } catch (err) {
    return err instanceof UsageDbMissingError ? 'none' : null;
  }
}

function listing(k: KeyRecord, db: Db | 'none' | null, nowMs: number): KeyListing {
  const spendOver = (w: string): number | null => {
    if (db === 'none') return 0;
    if (!db) return null;
    try {
      return keySpend(db, k.alias, windowSeconds(w) * 1000, nowMs);
    } catch {
      return null; // a log older than the key_alias column
    }
  };
  let lastUsed: number | null = null;
  try {
    lastUsed = db && db !== 'none' ? keyLastUsed(db, k.alias) : null;
  } catch {
    lastUsed = null;
  }
  const b = k.limits.budget;
  const windows = b && !LIST_WINDOWS.includes(b.budget_window) ? [...LIST_WINDOWS, b.budget_window] : LIST_WINDOWS;
  const spend: Record<string, number | null> = {};
  for (const w of windows) spend[w] = spendOver(w);
  const budgetSpend = b ? spend[b.budget_window]! : null;
  return {
    alias: k.alias,
    status: isActive(k, nowMs) ? 'active' : 'expired',
    created: new Date(k.createdAt).toISOString(),
    expires: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
    last_used: lastUsed === null ? null : new Date(lastUsed).toISOString(),
    rpm: k.limits.rpm ?? null,
    tpm: k.limits.tpm ?? null,
    models: k.limits.models ?? null,
    budget: b ? { ...b, spend_usd: budgetSpend, remaining_usd: budgetSpend === null ? null : Math.max(0, b.max_budget_usd - budgetSpend) } : null,
    spend_usd: spend,
  };
}

const usd = (v: number | null) => (v === null ? '?' : `$${v.toFixed(v < 10 ? 4 : 2)}`);
const when = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 19).replace('T', ' '));

export async function runKeysList(opts: LoadOptions & { json?: boolean }): Promise<number> {
  const { paths } = context(opts);
  return withStore(opts, 'list', async (store) => {
    const keys = (await store.load()).unrevoked;
    const now = Date.now();
    const db = usageDb(paths.usageDb);
    let out: KeyListing[];
    try {
      out = keys.map((k) => listing(k, db, now));
    } finally {
      if (db && db !== 'none') db.close();
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ keys: out }, usdReplacer, 2)}\n`);
      return 0;
    }
    if (out.length === 0) {
      process.stdout.write('no keys (create one with: ptui keys create --alias NAME)\n');
      return 0;
    }
    const rows = [['alias', 'status', 'budget', 'rpm', 'tpm', 'models', 'expires', 'last used', `spend ${LIST_WINDOWS.join(' / ')}`]];
    for (const k of out) {
      const b = k.budget;
      rows.push([
        k.alias,
        k.status,
        b ? `${usd(b.spend_usd)} of $${b.max_budget_usd} per ${b.budget_window} (${b.action})` : '-',
        k.rpm === null ? '-' : String(k.rpm),
        k.tpm === null ? '-' : String(k.tpm),
        k.models ? k.models.join(',') : 'all',
        when(k.expires),
        when(k.last_used),
        LIST_WINDOWS.map((w) => usd(k.spend_usd[w]!)).join(' / '),
      ]);
    }
    process.stdout.write(`${table(rows, '')}\n`);
    return 0;
  });
}

/** Checks the limits the flags gave, as the store would; throws with the flag's name on the first problem. */
export function parseLimits(raw: { budget?: Partial<Budget>; rpm?: number; tpm?: number; models?: string[] }): KeyLimits {
  const r = keyLimitsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const flag = issue.path[0] === 'budget' ? `--budget-${String(issue.path[1] ?? 'usd').replace('max_budget_usd', 'usd').replace('budget_window', 'window')}` : `--${String(issue.path[0])}`;
  throw new Error(`${flag}: ${issue.message}`);
}
