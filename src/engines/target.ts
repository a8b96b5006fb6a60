// Which engine a provider runs and where its figures are read: from `engine` and `metrics_url`
// when set, else from the provider type (ollama for Ollama, none for OpenAI, and for any other
// OpenAI-compatible server a look at <base>/metrics that decides on its `vllm:` names).
import type { Provider } from '../config/schema.js';

export interface EngineTarget {
  provider: string;
  /** auto: an OpenAI-compatible server that is vLLM if its /metrics says so */
  kind: 'vllm' | 'ollama' | 'auto';
  /** vLLM: the /metrics URL; Ollama: the server root (…/api/ps, …/api/tags) */
  url: string;
  /** the URL as reports and errors show it: without credentials */
  shownUrl: string;
  gpuUsdPerHour: number | null;
  /** what decides sameness across config reloads (same = keep the history) */
  signature: string;
}

/** api_base without a trailing `/v1`: the server's own root. */
export function serverRoot(apiBase: string): string {
  const u = new URL(apiBase);
  u.pathname = u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '');
}

export function engineTarget(name: string, p: Provider): EngineTarget | null {
  const engine = p.engine ?? (p.type === 'ollama' ? 'ollama' : p.type === 'openai' ? 'none' : 'auto');
  if (engine === 'none') return null;
  const root = serverRoot(p.api_base);
  const url = engine === 'ollama' ? root : (p.metrics_url ?? `${root}/metrics`);
  const gpu = p.gpu_usd_per_hour ?? null;
  return { provider: name, kind: engine, url, shownUrl: withoutCredentials(url), gpuUsdPerHour: gpu, signature: JSON.stringify([engine, url]) };
}

export function withoutCredentials(url: string): string {
  const u = new URL(url);
  if (!u.username && !u.password) return url;
  u.username = '';
  u.password = '';
  return u.toString();
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '[::]', '::']);

/** Does `url` reach the gateway's own listening address? */
export function pointsAt(url: string, self: { host: string; port: number } | null): boolean {
  if (!self) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  if (port !== self.port) return false;
  const host = u.hostname.toLowerCase();
  const selfHost = self.host.toLowerCase();
  return LOOPBACK.has(host) || host === selfHost || host === `[${selfHost}]` || /^127\./.test(host);
}
