// Who answers on the gateway port: nobody (free), our gateway (GET /health in the shape the
// README's HTTP API section gives, with the proof of the instance our runtime dir records), a
// ptui-like answer that cannot prove it is ours, or some other program. The supervisor asks
// before it spawns anything and on every health check.
import {
  INSTANCE_CHALLENGE_HEADER,
  INSTANCE_PROOF_HEADER,
  isProcessAlive,
  newInstanceChallenge,
  readInstanceRecord,
  verifyInstanceProof,
  type InstanceRecord,
} from '../../config/instance-record.js';
import { getJson, type HttpGetError, type JsonResponse } from './httpGet.js';

/** Shared mode's Redis as the gateway reports it in /health. */
export interface SharedLinkHealth {
  state: 'up' | 'down';
  /** why it is down */
  reason: string | null;
  /** gateways with a live heartbeat, this one included */
  gateways: number;
}

export interface GatewayHealth {
  status: 'ok' | 'degraded';
  version: string | null;
  uptimeS: number | null;
  configError: string | null;
  /** only in shared mode */
  shared?: SharedLinkHealth;
}

function parseShared(v: unknown): SharedLinkHealth | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const s = v as Record<string, unknown>;
  if (s.state !== 'up' && s.state !== 'down') return undefined;
  return {
    state: s.state,
    reason: typeof s.reason === 'string' ? s.reason.slice(0, 300) : null,
    gateways: Array.isArray(s.gateways) ? Math.min(s.gateways.length, 10_000) : 0,
  };
}

export type ProbeResult =
  | { kind: 'free' }
  /** a ptui gateway that proved it is the one recorded in our runtime dir */
  | { kind: 'ours'; health: GatewayHealth; record: InstanceRecord }
  /** answers like a ptui gateway, but cannot prove it is ours: never sent a credential */
  | { kind: 'unproven'; health: GatewayHealth; why: string }
  | { kind: 'other'; detail: string };

/** A wildcard listen address is reached through loopback. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function baseUrl(host: string, port: number): string {
  return `http://${connectHost(host)}:${port}`;
}

export function parseHealth(body: unknown): GatewayHealth | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (b.status !== 'ok' && b.status !== 'degraded') return null;
  if (typeof b.uptime_s !== 'number' && typeof b.version !== 'string') return null;
  const configError = b.config_error;
  const shared = parseShared(b.shared);
  return {
    ...(shared ? { shared } : {}),
    status: b.status,
    version: typeof b.version === 'string' ? b.version : null,
    uptimeS: typeof b.uptime_s === 'number' ? b.uptime_s : null,
    configError:
      typeof configError === 'string' ? configError : configError ? JSON.stringify(configError).slice(0, 200) : null,
  };
}

/**
 * Who answers on the port. When our runtime dir records a gateway, the probe carries a fresh
 * challenge and only a correct answer makes it 'ours'. Nothing here sends a credential.
 */
export async function probeGateway(host: string, port: number, opts: { runtimeDir?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const read = opts.runtimeDir ? readInstanceRecord(opts.runtimeDir) : ({ state: 'none' } as const);
  const record = read.state === 'ok' && isProcessAlive(read.record.pid) ? read.record : null;
  const challenge = newInstanceChallenge();
  let res: JsonResponse;
  try {
    res = await getJson(`${baseUrl(host, port)}/health`, {
      timeoutMs: opts.timeoutMs ?? 1000,
      headers: record ? { [INSTANCE_CHALLENGE_HEADER]: challenge } : {},
    });
  } catch (e) {
    const code = (e as HttpGetError).code;
    if (code === 'ECONNREFUSED') return { kind: 'free' };
    if (code === 'ETIMEDOUT') return { kind: 'other', detail: 'it accepts connections but does not answer HTTP' };
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return { kind: 'other', detail: `cannot reach ${host}: ${code}` };
    return { kind: 'other', detail: `it does not speak HTTP (${code ?? (e as Error).message})` };
  }
  const health = res.status === 200 || res.status === 503 ? parseHealth(res.body) : null;
  if (!health) return { kind: 'other', detail: `GET /health answered HTTP ${res.status}, not a ptui gateway` };
  if (!record) {
    const why = read.state === 'invalid' ? read.reason : read.state === 'ok' ? `the recorded gateway (pid ${read.record.pid}) is gone` : 'nothing recorded in the runtime dir';
    return { kind: 'unproven', health, why };
  }
  if (record.port !== port) return { kind: 'unproven', health, why: `the recorded gateway listens on port ${record.port}` };
  const proof = res.headers[INSTANCE_PROOF_HEADER];
  if (!verifyInstanceProof(record.secret, challenge, typeof proof === 'string' ? proof : null)) {
    return { kind: 'unproven', health, why: 'it did not prove it is the gateway recorded in the runtime dir' };
  }
  return { kind: 'ours', health, record };
}
