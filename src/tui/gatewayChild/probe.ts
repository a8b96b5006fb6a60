// Who answers on the gateway port: nobody (free), a ptui gateway (GET /health in the shape the
// README's HTTP API section gives), or some other program. The supervisor asks before it
// spawns anything.
import { getJson, type HttpGetError, type JsonResponse } from './httpGet.js';
export interface GatewayHealth {
  status: 'ok' | 'degraded';
  version: string | null;
  uptimeS: number | null;
  configError: string | null;
}

export type ProbeResult =
  | { kind: 'free' }
  | { kind: 'ptui'; health: GatewayHealth }
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
  return {
    status: b.status,
    version: typeof b.version === 'string' ? b.version : null,
    uptimeS: typeof b.uptime_s === 'number' ? b.uptime_s : null,
    configError:
      typeof configError === 'string' ? configError : configError ? JSON.stringify(configError).slice(0, 200) : null,
  };
}

export async function probeGateway(host: string, port: number, timeoutMs = 1000): Promise<ProbeResult> {
  let res: JsonResponse;
  try {
    res = await getJson(`${baseUrl(host, port)}/health`, { timeoutMs });
  } catch (e) {
    const code = (e as HttpGetError).code;
    if (code === 'ECONNREFUSED') return { kind: 'free' };
    if (code === 'ETIMEDOUT') return { kind: 'other', detail: 'it accepts connections but does not answer HTTP' };
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return { kind: 'other', detail: `cannot reach ${host}: ${code}` };
    return { kind: 'other', detail: `it does not speak HTTP (${code ?? (e as Error).message})` };
  }
  const health = res.status === 200 || res.status === 503 ? parseHealth(res.body) : null;
  if (health) return { kind: 'ptui', health };
  return { kind: 'other', detail: `GET /health answered HTTP ${res.status}, not a ptui gateway` };
}
