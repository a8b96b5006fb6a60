// What the Gateway panel shows about the gateway process, as the supervisor reports it.
// 'running' is said only of a gateway that proved it is ours (the only one given credentials).
import type { SharedLinkHealth } from './probe.js';

export type GatewayMode =
  | 'disabled'
  | 'probing'
  | 'starting'
  | 'running'
  | 'restarting'
  | 'port-taken'
  | 'stopping'
  | 'stopped';

export interface GatewayChildState {
  mode: GatewayMode;
  host: string;
  port: number;
  /** the gateway's pid: one this console started, or the recorded one it adopted */
  pid: number | null;
  /** running, started by an earlier console (or by hand) and proven to be ours */
  adopted: boolean;
  /** when the gateway started */
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
  /** shared mode: the gateway's Redis link, from GET /health (absent otherwise) */
  shared?: SharedLinkHealth | null;
  version: string | null;
}

/** Request statistics over a recent window of the usage log (UsageReader.stats). */
export type { TrafficStats } from '../../usage/reader.js';
