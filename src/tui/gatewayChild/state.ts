// What the Gateway panel shows about the gateway process, as the supervisor reports it.
export type GatewayMode =
  | 'disabled'
  | 'probing'
  | 'starting'
  | 'running'
  | 'attached'
  | 'restarting'
  | 'port-taken'
  | 'stopping'
  | 'stopped';

export interface GatewayChildState {
  mode: GatewayMode;
  host: string;
  port: number;
  /** our child's pid (null when attached to someone else's gateway, or none running) */
  pid: number | null;
  /** when the current child was spawned (or when we attached) */
  startedAt: number | null;
  restarts: number;
  /** when the next restart attempt is due, in 'restarting' */
  nextRestartAt: number | null;
  /** how the last child ended, e.g. "exit 1: config dir not found" */
  lastExit: string | null;
  /** one line for the operator: port taken, health degraded, spawn failure */
  message: string | null;
  /** from GET /health */
  health: 'ok' | 'degraded' | null;
  version: string | null;
}

/** Request statistics over a recent window of the usage log (UsageReader.stats). */
export type { TrafficStats } from '../../usage/reader.js';
