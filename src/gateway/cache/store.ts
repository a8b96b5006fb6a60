// The disk cache under `.litellm_cache/`: one file per entry, `<sha256>.json`,
// written to a temp file and renamed into place so a reader never sees half an entry; until the
// rename, the entry is served from memory. An
// in-memory index (key -> size, in least-recently-used order) answers misses without touching
// the disk and drives eviction once the total passes max_bytes. The index is rebuilt from the
// directory at start (oldest modification first), so the cap holds across restarts.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { parseEntry, serializeEntry, type CacheEntry } from './entry.js';

const ENTRY_RE = /^[0-9a-f]{64}\.json$/;
const TMP_PREFIX = '.tmp-';
// A failing disk logs once a minute, not once per request.
const WRITE_WARN_INTERVAL_MS = 60_000;

export interface CacheStoreOptions {
  dir: string;
  ttlMs: number;
  maxBytes: number;
  log: Logger;
}

export type LookupResult = { entry: CacheEntry } | { entry: null; reason: 'absent' | 'expired' | 'invalid' };

export class CacheStore {
  /** key -> file size; Map order is LRU order (oldest first) */
  private readonly index = new Map<string, number>();
  private totalBytes = 0;
  private tmpCounter = 0;
  private lastWriteWarn = 0;
  private writesDisabled = false;
  /**
   * Entries whose write has not finished: served from memory until their file is in place, so
   * the next identical request is a hit at once (the gateway never waits for the disk). Each is
   * a whole entry; a reader of the disk only ever sees a renamed, complete file.
   */
  private readonly writing = new Map<string, CacheEntry>();

  private constructor(private readonly opts: CacheStoreOptions) {}

  /**
   * Opens (creating) the cache dir and proves it writable; null, with a warning logged, when it
   * is not: the gateway then serves requests uncached. Runs at start and reload only.
   */
  static open(opts: CacheStoreOptions): CacheStore | null {
    const probe = path.join(opts.dir, `${TMP_PREFIX}probe-${process.pid}`);
    try {
      fs.mkdirSync(opts.dir, { recursive: true });
      fs.writeFileSync(probe, '');
      fs.unlinkSync(probe);
    } catch (err) {
      opts.log.warn('cache_disabled', { dir: opts.dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      return null;
    }
    const store = new CacheStore(opts);
    store.loadIndex();
    return store;
  }

  get dir(): string {
    return this.opts.dir;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get entries(): number {
    return this.index.size;
  }

  private file(key: string): string {
    return path.join(this.opts.dir, `${key}.json`);
  }

  private loadIndex(): void {
    const found: Array<{ key: string; size: number; mtime: number }> = [];
    for (const name of fs.readdirSync(this.opts.dir)) {
      const full = path.join(this.opts.dir, name);
      try {
        if (name.startsWith(TMP_PREFIX)) {
          fs.unlinkSync(full); // a write interrupted by a crash
          continue;
        }
        if (!ENTRY_RE.test(name)) continue;
        const st = fs.statSync(full);
        if (st.isFile()) found.push({ key: name.slice(0, 64), size: st.size, mtime: st.mtimeMs });
      } catch {
        // vanished or unreadable: not an entry
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.track(f.key, f.size);
    this.evict();
  }

  private track(key: string, size: number): void {
    const old = this.index.get(key);
    if (old !== undefined) {
      this.totalBytes -= old;
      this.index.delete(key);
    }
    this.index.set(key, size);
    this.totalBytes += size;
  }

  private forget(key: string): void {
    const size = this.index.get(key);
    if (size === undefined) return;
    this.index.delete(key);
    this.totalBytes -= size;
  }

  private remove(key: string): void {
    this.forget(key);
    fsp.unlink(this.file(key)).catch(() => {});
  }

  /** Whether an entry may exist (the index knows every file this store wrote or found at start). */
  has(key: string): boolean {
    return this.index.has(key) || this.writing.has(key);
  }

  async get(key: string, nowMs: number): Promise<LookupResult> {
    const fresh = this.writing.get(key);
    if (fresh) return nowMs - fresh.created_ms < this.opts.ttlMs ? { entry: fresh } : { entry: null, reason: 'expired' };
    if (!this.index.has(key)) return { entry: null, reason: 'absent' };
    let text: string;
    try {
      text = await fsp.readFile(this.file(key), 'utf8');
    } catch {
      this.forget(key);
      return { entry: null, reason: 'absent' };
    }
    const entry = parseEntry(text, key);
    if (!entry) {
      this.opts.log.warn('cache_entry_invalid', { key, note: 'corrupt, truncated or older format: removed' });
      this.remove(key);
      return { entry: null, reason: 'invalid' };
    }
    if (nowMs - entry.created_ms >= this.opts.ttlMs) {
      this.remove(key);
      return { entry: null, reason: 'expired' };
    }
    this.track(key, this.index.get(key) ?? text.length); // most recently used
    return { entry };
  }

  /** Writes an entry atomically; failures are logged, never thrown (the response is already sent). */
  async put(entry: CacheEntry): Promise<void> {
    if (this.writesDisabled) return;
    const data = serializeEntry(entry);
    const size = Buffer.byteLength(data);
    if (size > this.opts.maxBytes) return; // could never fit: do not evict everything for it
    const tmp = path.join(this.opts.dir, `${TMP_PREFIX}${entry.key}-${process.pid}-${++this.tmpCounter}`);
    this.writing.set(entry.key, entry);
    // (a newer write of the same key may have replaced this one meanwhile: it clears its own)
    const done = () => {
      if (this.writing.get(entry.key) === entry) this.writing.delete(entry.key);
    };
    try {
      await fsp.writeFile(tmp, data, { mode: 0o600 });
      await fsp.rename(tmp, this.file(entry.key));
    } catch (err) {
      done();
      fsp.unlink(tmp).catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      // The dir went read-only or away: stop trying rather than fail every request's write.
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
        this.writesDisabled = true;
      }
      const now = Date.now();
      if (this.writesDisabled || now - this.lastWriteWarn >= WRITE_WARN_INTERVAL_MS) {
        this.lastWriteWarn = now;
        this.opts.log.warn('cache_write_failed', { dir: this.opts.dir, reason: code ?? String(err), writes_disabled: this.writesDisabled });
      }
      return;
    }
    this.track(entry.key, size);
    done();
    this.evict();
  }

  /** Drops least recently used entries until the total fits max_bytes. */
  private evict(): void {
    if (this.totalBytes <= this.opts.maxBytes) return;
    for (const key of this.index.keys()) {
      if (this.totalBytes <= this.opts.maxBytes) break;
      this.remove(key);
    }
  }
}
