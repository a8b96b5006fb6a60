// Method and path to route: the gateway's whole URL space (README, "Gateway HTTP API").
import type { Endpoint } from './context.js';

export type Route = Endpoint | 'models' | 'model' | 'health' | 'health_targets' | 'metrics' | 'budgets' | 'engines' | 'admin_providers' | 'admin_provider_action';

const ROUTES = new Map<string, Route>();
for (const prefix of ['/v1', '']) {
  ROUTES.set(`POST ${prefix}/chat/completions`, 'chat');
  ROUTES.set(`POST ${prefix}/completions`, 'completions');
  ROUTES.set(`POST ${prefix}/embeddings`, 'embeddings');
  ROUTES.set(`POST ${prefix}/responses`, 'responses');
  ROUTES.set(`GET ${prefix}/models`, 'models');
}
ROUTES.set('GET /health', 'health');
ROUTES.set('GET /health/targets', 'health_targets');
ROUTES.set('GET /metrics', 'metrics');
ROUTES.set('GET /budgets', 'budgets');
ROUTES.set('GET /engines', 'engines');
ROUTES.set('GET /admin/providers', 'admin_providers');
ROUTES.set('HEAD /health', 'health');

/** The route for a method and URL (query string ignored); undefined = 404. */
export function route(method: string | undefined, url: string | undefined): Route | undefined {
  if (!url) return undefined;
  // the route of nearly every request, found without building and hashing a key
  if (url === '/v1/chat/completions' && method === 'POST') return 'chat';
  const path = pathOf(url);
  const exact = ROUTES.get(`${method} ${path}`);
  if (exact !== undefined) return exact;
  if (method === 'POST' && path.startsWith('/admin/providers/')) return 'admin_provider_action';
  if (method !== 'GET') return undefined;
  return modelIdIn(path) !== undefined ? 'model' : undefined;
}

const MODEL_PREFIXES = ['/v1/models/', '/models/'];

/**
 * The model id of a `GET /v1/models/{id}` path, as the client meant it: percent-decoded once, so
 * `meta-llama%2FLlama-3.1-8B` and `meta-llama/Llama-3.1-8B` (ids hold slashes) name the same model.
 * The id is only ever compared with configured names, never used as a path. Malformed escapes
 * are kept as written (and match nothing).
 */
export function modelIdIn(path: string): string | undefined {
  const prefix = MODEL_PREFIXES.find((p) => path.startsWith(p));
  if (!prefix || path.length === prefix.length) return undefined;
  const raw = path.slice(prefix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The path of a URL without its query string and trailing slash. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export const isLlmRoute = (r: Route): r is Endpoint => r === 'chat' || r === 'completions' || r === 'embeddings' || r === 'responses';
