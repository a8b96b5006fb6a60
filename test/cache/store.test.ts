// The disk store on a real temp dir (README, "Budgets, guardrails and cache"): atomic writes, an
// entry being written already served, TTL, the size cap, and entries
// that are corrupt, truncated or from an older format being misses that get removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_FORMAT_VERSION, type CacheEntry } from '../../src/gateway/cache/entry.js';
import { CacheStore } from '../../src/gateway/cache/store.js';
import { createLogger } from '../../src/gateway/log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    try {
      fs.chmodSync(d, 0o755);
    } catch {}
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-cache-'));
  dirs.push(d);
  return d;
}

function open(dir: string, over: { ttlMs?: number; maxBytes?: number } = {}) {
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', (l) => logs.push(JSON.parse(l)));
  const store = CacheStore.open({ dir, ttlMs: over.ttlMs ?? 60_000, maxBytes: over.maxBytes ?? 1 << 20, log });
  return { store, logs };
}

const key = (i: number) => i.toString(16).padStart(64, '0');

function entry(i: number, over: Partial<CacheEntry> = {}): CacheEntry {
  return {
    v: CACHE_FORMAT_VERSION,
    key: key(i),
    created_ms: Date.now(),
    endpoint: 'chat',
    provider: 'p',
    concrete_model: 'm',
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    body: JSON.stringify({ id: `r${i}`, choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(100) } }] }),
    ...over,
  };
}

describe('CacheStore', () => {
  it('stores and finds an entry, written atomically with no temp file left', async () => {
    const dir = tmp();
    const { store } = open(dir);
    await store!.put(entry(1));
    const got = await store!.get(key(1), Date.now());
    expect(got.entry?.body).toBe(entry(1).body);
    expect(fs.readdirSync(dir)).toEqual([`${key(1)}.json`]);
    expect((await store!.get(key(2), Date.now())).entry).toBeNull();
  });

  it('an expired entry is a miss and is removed', async () => {
    const dir = tmp();
    const { store } = open(dir, { ttlMs: 1000 });
    await store!.put(entry(1, { created_ms: Date.now() - 5000 }));
    expect(await store!.get(key(1), Date.now())).toEqual({ entry: null, reason: 'expired' });
    await waitFor(() => !fs.existsSync(path.join(dir, `${key(1)}.json`)));
    expect(store!.entries).toBe(0);
  });

  it.each([
    ['corrupt', (text: string) => 'this is not json {'],
    ['truncated', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['an older format', (text: string) => JSON.stringify({ ...JSON.parse(text), v: CACHE_FORMAT_VERSION - 1 })],
    ['a format without a version', (text: string) => JSON.stringify({ key: JSON.parse(text).key, response: JSON.parse(text).body })],
    ['for another key', (text: string) => JSON.stringify({ ...JSON.parse(text), key: key(99) })],
    ['holding a body that is not JSON', (text: string) => JSON.stringify({ ...JSON.parse(text), body: '{"trunc' })],
    ['empty', () => ''],
  ])('an entry that is %s is a miss and is removed', async (_what, mangle) => {
    const dir = tmp();
    const { store, logs } = open(dir);
    await store!.put(entry(1));
    const file = path.join(dir, `${key(1)}.json`);
    fs.writeFileSync(file, mangle(fs.readFileSync(file, 'utf8')));
    expect(await store!.get(key(1), Date.now())).toEqual({ entry: null, reason: 'invalid' });
    await waitFor(() => !fs.existsSync(file));
    expect(logs.some((l) => l.event === 'cache_entry_invalid')).toBe(true);
  });

  it('a bad entry found on disk at start is also a miss and removed', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, `${key(3)}.json`), JSON.stringify({ v: 0, key: key(3), body: '{}' }));
    const { store } = open(dir);
    expect(store!.entries).toBe(1);
    expect((await store!.get(key(3), Date.now())).entry).toBeNull();
    await waitFor(() => fs.readdirSync(dir).length === 0);
  });

  it('keeps the total under max_bytes by evicting the least recently used', async () => {
    const dir = tmp();
    const size = Buffer.byteLength(JSON.stringify(entry(1)));
    const { store } = open(dir, { maxBytes: size * 3 + 10 });
    for (const i of [1, 2, 3]) await store!.put(entry(i));
    await store!.get(key(1), Date.now()); // 1 is now the most recently used; 2 the least
    await store!.put(entry(4));
    expect(store!.entries).toBe(3);
    expect(store!.bytes).toBeLessThanOrEqual(size * 3 + 10);
    await waitFor(() => !fs.existsSync(path.join(dir, `${key(2)}.json`)));
    for (const i of [1, 3, 4]) expect(fs.existsSync(path.join(dir, `${key(i)}.json`))).toBe(true);
  });

  it('rebuilds its index from disk at start (oldest first), removes leftover temp files, ignores foreign files', async () => {
    const dir = tmp();
    const first = open(dir).store!;
    for (const i of [1, 2]) await first.put(entry(i));
    fs.utimesSync(path.join(dir, `${key(1)}.json`), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    fs.writeFileSync(path.join(dir, '.tmp-deadbeef-1-1'), 'half a write');
    fs.writeFileSync(path.join(dir, 'README'), 'not ours');
    const size = fs.statSync(path.join(dir, `${key(2)}.json`)).size;
    const second = open(dir, { maxBytes: size + 1 }).store!;
    // the older one went to fit the cap
    expect(second.entries).toBe(1);
    expect((await second.get(key(2), Date.now())).entry).not.toBeNull();
    await waitFor(() => !fs.existsSync(path.join(dir, `${key(1)}.json`)));
    expect(fs.existsSync(path.join(dir, '.tmp-deadbeef-1-1'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'README'))).toBe(true);
  });

  it('a dir that cannot be created or written gives no store and a warning', () => {
    const parent = tmp();
    const file = path.join(parent, 'a-file');
    fs.writeFileSync(file, '');
    const { store, logs } = open(path.join(file, 'cache'));
    expect(store).toBeNull();
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', event: 'cache_disabled', reason: 'ENOTDIR' })]);
  });

  it('a write that fails later (dir removed) is logged, not thrown, and stops further writes', async () => {
    const dir = tmp();
    const { store, logs } = open(dir);
    fs.rmSync(dir, { recursive: true });
    await store!.put(entry(1));
    await store!.put(entry(2));
    expect(logs.filter((l) => l.event === 'cache_write_failed')).toHaveLength(1);
    expect(store!.entries).toBe(0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('an entry just stored', () => {
  it('is a hit for the next lookup before its file is on disk, and whole', async () => {
    const { store } = open(tmp());
    const e = entry(7, { body: JSON.stringify({ id: 'big', content: 'x'.repeat(200_000) }) });
    const written = store.put(e); // not awaited: the gateway never waits for the disk
    expect(store.has(e.key)).toBe(true);
    const r = await store.get(e.key, Date.now());
    expect(r.entry).toEqual(e);
    await written;
    expect((await store.get(e.key, Date.now())).entry).toEqual(e);
  });

  it('a write that fails leaves no entry behind', async () => {
    const dir = tmp();
    const { store } = open(dir);
    // the dir replaced by a file: the write fails (ENOTDIR) whoever runs the test
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, '');
    const e = entry(8);
    await store.put(e);
    fs.rmSync(dir, { force: true });
    fs.mkdirSync(dir);
    expect(store.has(e.key)).toBe(false);
    expect((await store.get(e.key, Date.now())).entry).toBeNull();
  });
});
