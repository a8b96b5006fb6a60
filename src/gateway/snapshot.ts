// Everything the server derives from one config: the auth check, the /v1/models answer, the
// body and response limits and the provider clients. Requests take the snapshot current at their start and keep
// it, so a hot reload never changes a request in flight.
import type { ResolvedConfig } from '../config/load.js';
import { Authenticator, createAuthCheck, type AuthCheck } from './auth.js';
import type { ProviderClient } from './upstream.js';

export class Snapshot {
  /** the operator endpoints: the master key only */
  readonly auth: AuthCheck;
  /** /v1: the master key or a virtual key */
  readonly authenticator: Authenticator;
  /** GET /v1/models, serialised once per config */
  readonly modelsJson: string;
  /** GET /v1/models/{id} per model, serialised once per config */
  readonly modelJson = new Map<string, string>();
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;

  constructor(
    readonly config: ResolvedConfig,
    readonly clients: ReadonlyMap<string, ProviderClient>,
  ) {
    this.auth = createAuthCheck(config.gateway.master_key);
    this.authenticator = new Authenticator(config.gateway.master_key);
    this.maxBodyBytes = config.gateway.max_body_bytes;
    this.maxResponseBytes = config.gateway.max_response_bytes;
    const names = Object.keys(config.models);
    const created = Math.floor(Date.now() / 1000);
    const data = names.map((id) => ({ id, object: 'model', created, owned_by: 'ptui', capability: config.models[id].capability }));
    this.modelsJson = JSON.stringify({ object: 'list', data });
    for (const m of data) this.modelJson.set(m.id, JSON.stringify(m));
  }
}
