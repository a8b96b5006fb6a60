// Method and path to route: the gateway's whole URL space (README, "Gateway HTTP API").
import type { Endpoint } from './context.js';

export type Route = Endpoint | 'models' | 'health' | 'health_targets' | 'metrics' | 'budgets';

const ROUTES = new Map<string, Route>();
for (const prefix of ['/v1', '']) {
  ROUTES.set(`POST ${prefix}/chat/completions`, 'chat');
  ROUTES.set(`POST ${prefix}/completions`, 'completions');
  ROUTES.set(`POST ${prefix}/embeddings`, 'embeddings');
  ROUTES.set(`GET ${prefix}/models`, 'models');
}
ROUTES.set('GET /health', 'health');
ROUTES.set('GET /health/targets', 'health_targets');
ROUTES.set('GET /metrics', 'metrics');
ROUTES.set('GET /budgets', 'budgets');
ROUTES.set('HEAD /health', 'health');

/** The route for a method and URL (query string ignored); undefined = 404. */
export function route(method: string | undefined, url: string | undefined): Route | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 47 /* / */) path = path.slice(0, -1);
  return ROUTES.get(`${method} ${path}`);
}

export const isLlmRoute = (r: Route): r is Endpoint => r === 'chat' || r === 'completions' || r === 'embeddings';
