// The gateway's one connection to the shared Redis, and what it knows about its health.
//
// ioredis does the connecting: a connect timeout, reconnect with exponential backoff and jitter,
// and no offline queue, so a command sent while disconnected fails at once instead of waiting.
// On top of that this file keeps one state, `up` or `down` with a reason. A command on the hot
// path waits at most HOT_DEADLINE_MS; past that the link is marked down ("slow") so the next
// requests do not wait at all, and a probe (PING) brings it back once Redis answers again, as
// does ioredis' own `ready` after a reconnect. Whoever listens to `onUp` converges then.
import { Redis } from 'ioredis';
import { describeRedisError, displayUrl, isAuthError, redisOptions } from '../../config/redis-options.js';
import type { SharedConfig } from '../../config/schema.js';
import { RATE_ADMIT_LUA, RATE_SETTLE_LUA } from './rate-scripts.js';
import { SYNC_LUA } from './lease-scripts.js';
import { HEARTBEAT_LUA, REPUBLISH_LUA, RESERVE_LUA, RESIGN_LUA, STATUS_LUA } from './scripts.js';

export { isAuthError };

/** The longest any request waits on Redis before on_unavailable decides. */
export const HOT_DEADLINE_MS = 50;
/** Background calls (settle, republish, status, heartbeat) may take longer. */
export const BACKGROUND_DEADLINE_MS = 2000;
const PROBE_INTERVAL_MS = 200;
const SLOW_AFTER_TIMEOUTS = 3;

type Reply = unknown;
type ScriptCall = (...args: Array<string | number>) => Promise<Reply>;

/** ioredis with our scripts defined: each is sent by SHA, and loaded again when Redis lost it. */
export type ScriptedRedis = Redis & {
  ptuiReserve: ScriptCall;
  ptuiSync: ScriptCall;
  ptuiRepublish: ScriptCall;
  ptuiStatus: ScriptCall;
  ptuiHeartbeat: ScriptCall;
  ptuiResign: ScriptCall;
  ptuiRateAdmit: ScriptCall;
  ptuiRateSettle: ScriptCall;
};

export const TIMED_OUT = Symbol('timed out');

export interface LinkHooks {
  /** Redis answers (again): converge */
  onUp(): void;
  onDown(reason: string): void;
  /** a call got no answer in time: Redis may still run it, or have missed what came before */
  onLate(): void;
}

export class RedisLink {
  readonly client: ScriptedRedis;
  readonly url: string;
  private upNow = false;
  private why = 'connecting';
  private lastError: string | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private closed = false;
  private timeouts = 0;

  constructor(
    shared: SharedConfig,
    home: string,
    name: string,
    private readonly hooks: LinkHooks,
  ) {
    this.url = displayUrl(shared.redis_url);
    const client = new Redis(redisOptions(shared, home, name)) as ScriptedRedis;
    const define = (n: string, lua: string) => client.defineCommand(n, { numberOfKeys: 0, lua });
    define('ptuiReserve', RESERVE_LUA);
    define('ptuiSync', SYNC_LUA);
    define('ptuiRepublish', REPUBLISH_LUA);
    define('ptuiStatus', STATUS_LUA);
    define('ptuiHeartbeat', HEARTBEAT_LUA);
    define('ptuiResign', RESIGN_LUA);
    define('ptuiRateAdmit', RATE_ADMIT_LUA);
    define('ptuiRateSettle', RATE_SETTLE_LUA);
    client.on('ready', () => this.markUp());
    client.on('error', (err: Error) => {
      this.lastError = err.message;
      if (!this.upNow) this.why = this.describe(err.message);
    });
    client.on('close', () => this.markDown(this.lastError ? this.describe(this.lastError) : `Redis at ${this.url} closed the connection`));
    this.client = client;
  }

  get up(): boolean {
    return this.upNow && this.client.status === 'ready';
  }

  /** Why the link is down (null when up). */
  get reason(): string | null {
    return this.up ? null : this.why;
  }

  get lastErrorMessage(): string | null {
    return this.lastError;
  }

  /**
   * The first connection, waited for at most `waitMs`. Resolves either way: a Redis that is not
   * there yet leaves the gateway starting degraded, with ioredis retrying behind it.
   */
  async connect(waitMs: number): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        this.client.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        if (isAuthError(err.message)) done();
      };
      const timer = setTimeout(done, waitMs);
      this.client.once('ready', done);
      this.client.on('error', onError);
    });
    this.client.connect().catch(() => {
      // reported through 'error'; ioredis keeps retrying
    });
    await ready;
  }

  /**
   * Runs one command, waiting at most `deadlineMs`. A hot-path timeout marks the link down
   * ("slow") until a probe gets an answer; a failure marks it down with the error.
   */
  async call<T>(run: (r: ScriptedRedis) => Promise<T>, deadlineMs: number): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof TIMED_OUT>((resolve) => {
      // Timers run before the event loop reads sockets: an answer that arrived while this
      // process was busy is read first (setImmediate runs after the poll), so only Redis'
      // own slowness counts as a timeout, not ours.
      timer = setTimeout(() => setImmediate(() => resolve(TIMED_OUT)), deadlineMs);
    });
    const pending = run(this.client);
    // a late rejection after the deadline must not be unhandled
    pending.catch(() => {});
    try {
      const r = await Promise.race([pending, late]);
      if (r !== TIMED_OUT) this.timeouts = 0;
      else {
        this.hooks.onLate();
        // one late answer (a pause in this process or in Redis) is not an outage; three in a row are
        if (++this.timeouts >= SLOW_AFTER_TIMEOUTS) this.markSlow(deadlineMs);
      }
      return r;
    } catch (err) {
      const message = (err as Error).message;
      this.lastError = message;
      if (!/Connection is closed|Stream isn't writeable|enableOfflineQueue/i.test(message)) this.markDown(this.describe(message));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A hot-path call: the reply, or why there is none (down, failed, or later than HOT_DEADLINE_MS). */
  async hotCall(run: (r: ScriptedRedis) => Promise<Reply>): Promise<{ reply: Reply } | { unavailable: string }> {
    let reply: Reply;
    try {
      reply = await this.call(run, HOT_DEADLINE_MS);
    } catch (err) {
      return { unavailable: this.reason ?? String(err) };
    }
    if (reply === TIMED_OUT) return { unavailable: this.reason ?? `no answer within ${HOT_DEADLINE_MS} ms` };
    return { reply };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    try {
      await Promise.race([this.client.quit(), new Promise((r) => setTimeout(r, 500))]);
    } catch {
      // already gone
    }
    this.client.disconnect();
  }

  private describe(message: string): string {
    return describeRedisError(this.url, message);
  }

  private markUp(): void {
    if (this.closed || this.upNow) return;
    this.upNow = true;
    this.why = '';
    this.lastError = null;
    this.timeouts = 0;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.hooks.onUp();
  }

  private markDown(reason: string): void {
    if (this.closed) return;
    const was = this.upNow;
    this.upNow = false;
    this.why = reason;
    if (was) this.hooks.onDown(reason);
    // Down on a connection that is still open (no answer in time, or a command's error): no
    // reconnect will bring it back, so a PING does once Redis answers it.
    if (this.client.status === 'ready') this.startProbe();
  }

  /** No answer in time: stop waiting on Redis until a PING comes back. */
  private markSlow(deadlineMs: number): void {
    if (!this.upNow) return;
    this.markDown(`Redis at ${this.url} did not answer within ${deadlineMs} ms`);
  }

  private startProbe(): void {
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    if (this.client.status !== 'ready') {
      // a real disconnect: ioredis reconnects and 'ready' brings the link up
      if (this.probeTimer) clearInterval(this.probeTimer);
      this.probeTimer = null;
      return;
    }
    this.probing = true;
    try {
      await this.client.ping();
      this.markUp();
    } catch {
      // still down; the next probe tries again
    } finally {
      this.probing = false;
    }
  }
}
