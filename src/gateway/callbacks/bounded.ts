// Extra callback modules are someone else's code: each of their hooks may take at most
// callback_timeout_ms (read per request, so a reload changes it). A hook that takes longer is
// abandoned, logged (`callback_timeout`) and counted (backend_callback_errors_total): in onRequest
// the request fails with 500 callback_timeout, in onSuccess/onError the answer goes on and the
// built-in record callbacks after it (the usage log) still run. A module whose import does not
// settle within MODULE_LOAD_TIMEOUT_MS stops the gateway's start, naming the module.
import type { ResolvedConfig } from '../../config/load.js';
import type { Context } from '../context.js';
import { GatewayError } from '../errors.js';
import { Callback, type CallbackDeps } from '../pipeline.js';

export const MODULE_LOAD_TIMEOUT_MS = 10_000;

const TIMED_OUT = Symbol('timed out');

/** p, or TIMED_OUT once ms have passed (the timer never outlives the race). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const clock = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([p, clock]).finally(() => clearTimeout(timer));
}

/** The module's import, or an Error naming it when it does not settle in time. */
export async function importWithin(url: string, rel: string): Promise<{ default?: unknown }> {
  const mod = await within(import(url) as Promise<{ default?: unknown }>, MODULE_LOAD_TIMEOUT_MS);
  if (mod === TIMED_OUT) throw new Error(`callback module ${rel} did not load within ${MODULE_LOAD_TIMEOUT_MS / 1000} s`);
  return mod;
}

type Hook = 'onRequest' | 'onSuccess' | 'onError' | 'onConfig' | 'close';

export class BoundedCallback extends Callback {
  readonly name: string;

  constructor(
    deps: CallbackDeps,
    private readonly inner: Callback,
  ) {
    super(deps);
    this.name = inner.name;
  }

  override onRequest(ctx: Context) {
    return this.bound('onRequest', this.inner.onRequest(ctx), ctx.config.gateway.callback_timeout_ms, ctx);
  }
  override onSuccess(ctx: Context) {
    return this.bound('onSuccess', this.inner.onSuccess(ctx), ctx.config.gateway.callback_timeout_ms, ctx);
  }
  override onError(ctx: Context) {
    return this.bound('onError', this.inner.onError(ctx), ctx.config.gateway.callback_timeout_ms, ctx);
  }
  override onConfig(config: ResolvedConfig) {
    return this.bound('onConfig', this.inner.onConfig(config), config.gateway.callback_timeout_ms);
  }
  override close() {
    return this.bound('close', this.inner.close(), this.deps.getConfig().gateway.callback_timeout_ms);
  }

  /** A synchronous hook returns at once (nothing to bound); a promise races the clock. */
  private bound(hook: Hook, r: void | Promise<void>, ms: number, ctx?: Context): void | Promise<void> {
    if (!r || typeof (r as Promise<void>).then !== 'function') return r;
    return within(r, ms).then((v) => {
      if (v !== TIMED_OUT) return;
      this.deps.metrics.callbackErrors.inc({ callback: this.name, hook });
      this.deps.log.error('callback_timeout', { callback: this.name, hook, request_id: ctx?.requestId, timeout_ms: ms });
      if (hook === 'onRequest') {
        throw new GatewayError(500, 'callback_timeout', `callback ${this.name} did not finish onRequest within ${ms} ms`);
      }
    });
  }
}
