// Paths to handlers, and logical model to ordered targets (SPEC §5). A Snapshot is everything
// derived from one config: requests take the snapshot current at their start and keep it, so a
// hot reload never changes a request in flight.
import type { ResolvedConfig, ResolvedModel } from '../config/load.js';
import type { Endpoint } from './context.js';
import { GatewayError } from './errors.js';
import { createAuthCheck, type AuthCheck } from './auth.js';
import type { ProviderClient } from './upstream.js';

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

export class Snapshot {
  readonly auth: AuthCheck;
  /** GET /v1/models, serialised once per config */
  readonly modelsJson: string;
  readonly maxBodyBytes: number;
  private readonly knownModels: string;

  constructor(
    readonly config: ResolvedConfig,
    readonly clients: ReadonlyMap<string, ProviderClient>,
  ) {
    this.auth = createAuthCheck(config.gateway.master_key);
    this.maxBodyBytes = config.gateway.max_body_bytes;
    const names = Object.keys(config.models);
    this.knownModels = names.length ? names.join(', ') : 'none';
    const created = Math.floor(Date.now() / 1000);
    this.modelsJson = JSON.stringify({
      object: 'list',
      data: names.map((id) => ({
        id,
        object: 'model',
        created,
        owned_by: 'ptui',
        capability: config.models[id].capability,
      })),
    });
  }

  resolveModel(name: string): ResolvedModel {
    const models = this.config.models;
    if (Object.hasOwn(models, name)) return models[name];
    const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
    throw new GatewayError(404, 'model_not_found', `model "${shown}" not found (known: ${this.knownModels})`, 'model');
  }
}
