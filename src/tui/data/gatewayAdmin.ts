// The console's calls to the gateway's operator endpoints: GET /engines, GET /admin/providers
// and POST /admin/providers/{name}/drain|undrain, each answer checked against the schema the
// gateway serves it with. Only a gateway that proved it is ours is asked (it gets the master
// key). Providers this console drained and has not undrained yet are remembered, so a console
// that quits half-way through a drain-first restart gives them back.
import { adminProvidersSchema, providerRoutingViewSchema, type ProviderRoutingView } from '../../engines/routing-view.js';
import { enginesReportSchema, type EnginesReport } from '../../engines/types.js';
import { getJson, postJson, type JsonResponse } from '../gatewayChild/httpGet.js';

export interface GatewayAdminOptions {
  /** base URL of a gateway that proved it is ours, or null */
  gatewayUrl: () => string | null;
  masterKey: () => string | undefined;
  timeoutMs?: number;
}

/** Why a call got no usable answer, in words for the status line. */
export class GatewayAdminError extends Error {
  override name = 'GatewayAdminError';
}

/** The gateway's error message when it sent one in OpenAI's shape, else the status. */
function refusal(what: string, res: JsonResponse): GatewayAdminError {
  const msg = (res.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return new GatewayAdminError(`${what}: HTTP ${res.status}${typeof msg === 'string' ? ` ${msg.slice(0, 200)}` : ''}`);
}

export class GatewayAdmin {
  private readonly drainedHere = new Set<string>();

  constructor(private readonly opts: GatewayAdminOptions) {}

  private base(): string {
    const base = this.opts.gatewayUrl();
    if (!base) throw new GatewayAdminError('no gateway of ours is running');
    return base;
  }

  private headers(): Record<string, string> {
    const key = this.opts.masterKey();
    return key ? { authorization: `Bearer ${key}` } : {};
  }

  private async call(method: 'GET' | 'POST', path: string): Promise<JsonResponse> {
    const send = method === 'GET' ? getJson : postJson;
    const res = await send(`${this.base()}${path}`, { headers: this.headers(), timeoutMs: this.opts.timeoutMs ?? 1500 });
    if (res.status !== 200) throw refusal(`${method} ${path}`, res);
    return res;
  }

  async engines(): Promise<EnginesReport> {
    const parsed = enginesReportSchema.safeParse((await this.call('GET', '/engines')).body);
    if (!parsed.success) throw new GatewayAdminError('GET /engines: an answer of the wrong shape');
    return parsed.data;
  }

  async providers(): Promise<ProviderRoutingView[]> {
    const parsed = adminProvidersSchema.safeParse((await this.call('GET', '/admin/providers')).body);
    if (!parsed.success) throw new GatewayAdminError('GET /admin/providers: an answer of the wrong shape');
    return parsed.data.providers;
  }

  async provider(name: string): Promise<ProviderRoutingView | null> {
    return (await this.providers()).find((p) => p.name === name) ?? null;
  }

  async setDrained(name: string, drained: boolean): Promise<ProviderRoutingView> {
    const path = `/admin/providers/${encodeURIComponent(name)}/${drained ? 'drain' : 'undrain'}`;
    const parsed = providerRoutingViewSchema.safeParse((await this.call('POST', path)).body);
    if (!parsed.success) throw new GatewayAdminError(`POST ${path}: an answer of the wrong shape`);
    if (drained) this.drainedHere.add(name);
    else this.drainedHere.delete(name);
    return parsed.data;
  }

  /** The operator chose to leave it drained: quitting no longer undrains it. */
  keepDrained(name: string): void {
    this.drainedHere.delete(name);
  }

  /** Undrain what this console drained in a flow that has not finished (on the way out); never throws. */
  async release(): Promise<void> {
    await Promise.all([...this.drainedHere].map((name) => this.setDrained(name, false).catch(() => {})));
  }
}
