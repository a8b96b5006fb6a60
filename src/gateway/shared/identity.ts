// Who this gateway is in the shared Redis: its gateway_id, held by a heartbeat key with a TTL.
// Two gateways with one id would mix their spend buckets, so the second refuses to start and
// names the first. A gateway restarted on the same box and runtime dir (after a crash, before
// the old heartbeat expired) is the same instance and takes its id back at once. A heartbeat
// that finds its key gone means Redis lost our state (restart, flush): the caller republishes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { BACKGROUND_DEADLINE_MS, TIMED_OUT, type RedisLink } from './link.js';

/** How long a gateway counts as alive after its last heartbeat; its reservations stop counting after that. */
export const HEARTBEAT_TTL_MS = 10_000;
const HEARTBEAT_EVERY_MS = 2_000;

export interface HolderInfo {
  instance: string;
  host: string;
  pid: number;
  port: number | null;
  started_ms: number;
}

/** The stable identity of a gateway instance: one box, one runtime dir (one gateway per runtime dir). */
export function instanceId(runtimeDir: string): string {
  let dir = runtimeDir;
  try {
    dir = fs.realpathSync(runtimeDir);
  } catch {
    // not created yet: the path as given
  }
  return crypto.createHash('sha256').update(`${os.hostname()}\0${dir}`).digest('hex').slice(0, 16);
}

export function describeHolder(gatewayId: string, holderJson: string): string {
  let h: Partial<HolderInfo> = {};
  try {
    h = JSON.parse(holderJson) as Partial<HolderInfo>;
  } catch {
    // an unreadable holder is still a holder
  }
  const clean = (v: unknown) => String(v ?? '?').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  const since = typeof h.started_ms === 'number' ? ` since ${new Date(h.started_ms).toISOString()}` : '';
  return `gateway_id "${gatewayId}" is already held by the gateway on host ${clean(h.host)} (pid ${clean(h.pid)}, port ${clean(h.port)})${since}; give each gateway its own shared.gateway_id`;
}

export type ClaimResult = { kind: 'held' } | { kind: 'fresh' } | { kind: 'conflict'; message: string } | { kind: 'unavailable' };

export class GatewayIdentity {
  private readonly meta: HolderInfo;
  private timer: NodeJS.Timeout | null = null;
  /** this process has held the id once: what it reserved since is its own to settle */
  private claimed = false;

  constructor(
    readonly gatewayId: string,
    runtimeDir: string,
    private readonly link: RedisLink,
  ) {
    this.meta = { instance: instanceId(runtimeDir), host: os.hostname(), pid: process.pid, port: null, started_ms: Date.now() };
  }

  setPort(port: number): void {
    this.meta.port = port;
  }

  /** One heartbeat: claims the id, or refreshes it, or finds another instance holding it. */
  async claim(): Promise<ClaimResult> {
    if (!this.link.up) return { kind: 'unavailable' };
    try {
      const first = this.claimed ? 0 : 1;
      const r = (await this.link.call(
        (c) => c.ptuiHeartbeat(this.gatewayId, this.meta.instance, JSON.stringify(this.meta), HEARTBEAT_TTL_MS, first),
        BACKGROUND_DEADLINE_MS,
      )) as unknown;
      if (r === TIMED_OUT || !Array.isArray(r)) return { kind: 'unavailable' };
      if (Number(r[0]) !== 0) this.claimed = true;
      if (Number(r[0]) === 0) return { kind: 'conflict', message: describeHolder(this.gatewayId, String(r[1])) };
      return Number(r[0]) === 2 ? { kind: 'fresh' } : { kind: 'held' };
    } catch {
      return { kind: 'unavailable' };
    }
  }

  /** Heartbeats every 2 s; `onBeat` sees each result (fresh means Redis lost our state). */
  start(onBeat: (r: ClaimResult) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.claim().then(onBeat);
    }, HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  /** Clean shutdown: the id is free at once (a crash frees it when the heartbeat expires). */
  async resign(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.link.up) return;
    try {
      await this.link.call((c) => c.ptuiResign(this.gatewayId, this.meta.instance), 500);
    } catch {
      // Redis gone: the heartbeat expires on its own
    }
  }
}
