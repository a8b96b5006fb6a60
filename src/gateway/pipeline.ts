// The callback pipeline: an ordered list of callbacks run around every request.
// onRequest may rewrite or reject (throw a GatewayError); onSuccess/onError are isolated, so
// a failing callback is logged and counted but never changes what the client gets.
import type { ResolvedConfig } from '../config/load.js';
import type { Context } from './context.js';
import type { Logger } from './log.js';
import type { GatewayMetrics } from './metrics.js';
import type { UsageLog } from '../usage/log.js';
import type { SharedState } from './shared/state.js';
import type { KeyRing } from './keys/ring.js';

/** What every callback may use; handed to its constructor. */
export interface CallbackDeps {
  getConfig(): ResolvedConfig;
  metrics: GatewayMetrics;
  log: Logger;
  usage: UsageLog;
  /** shared mode (gateway.yaml `shared:`): budgets enforced over every gateway on one Redis */
  shared?: SharedState;
  /** the virtual keys in force; absent where a harness runs callbacks without a gateway */
  keys?: KeyRing;
}

/**
 * Base class for pipeline callbacks. Override what you need; hooks may be sync or async
 * (sync is cheaper on the hot path). Throw a GatewayError from onRequest to reject a request.
 */
export abstract class Callback {
  abstract readonly name: string;
  /**
   * The end of a successful answer waits for this callback's onSuccess to settle (the usage log:
   * its row's commit); callbacks after it in the pipeline run once the answer is complete.
   */
  readonly holdsAnswer: boolean = false;
  constructor(protected readonly deps: CallbackDeps) {}
  onRequest(_ctx: Context): void | Promise<void> {}
  onSuccess(_ctx: Context): void | Promise<void> {}
  onError(_ctx: Context): void | Promise<void> {}
  /** a new valid config was loaded (hot reload) */
  onConfig(_config: ResolvedConfig): void | Promise<void> {}
  /** the gateway is shutting down: flush what you hold */
  close(): void | Promise<void> {}
}

export type CallbackClass = new (deps: CallbackDeps) => Callback;

type Hook = 'onSuccess' | 'onError';

const noop = (): void => {};

/** Whether a callback does something in this hook (a class's own override, or one set on the object). */
const hasHook = (cb: Callback, hook: 'onRequest' | Hook) => cb[hook] !== Callback.prototype[hook];

export class CallbackManager {
  /**
   * Per hook, the callbacks that do something in it, in pipeline order: a no-op hook is not
   * called on every request (of the built-in callbacks: the metrics' onRequest, the guardrails'
   * onSuccess and onError, the cache's onError). A callback that holds the answer stays in
   * onSuccess's list, where the answer waits for it.
   */
  private readonly requestHooks: readonly Callback[];
  private readonly successHooks: readonly Callback[];
  private readonly errorHooks: readonly Callback[];

  constructor(
    readonly callbacks: readonly Callback[],
    private readonly deps: CallbackDeps,
  ) {
    this.requestHooks = callbacks.filter((cb) => hasHook(cb, 'onRequest'));
    this.successHooks = callbacks.filter((cb) => cb.holdsAnswer || hasHook(cb, 'onSuccess'));
    this.errorHooks = callbacks.filter((cb) => hasHook(cb, 'onError'));
  }

  /**
   * Runs onRequest in order; the first throw rejects the request (the caller turns it into a
   * response). While every hook answers synchronously, so does this (undefined): no promise and
   * no microtask for the usual request, whose built-in hooks are all synchronous.
   */
  runRequest(ctx: Context): Promise<void> | undefined {
    const callbacks = this.requestHooks;
    for (let i = 0; i < callbacks.length; i++) {
      const r = callbacks[i]!.onRequest(ctx);
      if (r) return this.runRequestFrom(ctx, r, i + 1);
    }
    return undefined;
  }

  /** The rest of runRequest once a hook has returned a promise: each awaited in turn. */
  private async runRequestFrom(ctx: Context, pending: Promise<void>, next: number): Promise<void> {
    await pending;
    const callbacks = this.requestHooks;
    for (let i = next; i < callbacks.length; i++) {
      const r = callbacks[i]!.onRequest(ctx);
      if (r) await r;
    }
  }

  /**
   * Runs onSuccess in order. `answer` (the held-back end of the response) is called once the
   * callback that holds the answer has settled, so the callbacks after it (metrics) are off the
   * client's clock; without such a callback, after all of them.
   */
  async runSuccess(ctx: Context, answer: () => void = noop): Promise<void> {
    let answered = false;
    for (const cb of this.successHooks) {
      try {
        const r = cb.onSuccess(ctx);
        if (r) await r;
      } catch (err) {
        this.hookFailed(cb, 'onSuccess', ctx, err);
      }
      if (cb.holdsAnswer && !answered) {
        answered = true;
        answer();
      }
    }
    if (!answered) answer();
  }

  async runError(ctx: Context): Promise<void> {
    for (const cb of this.errorHooks) {
      try {
        const r = cb.onError(ctx);
        if (r) await r;
      } catch (err) {
        this.hookFailed(cb, 'onError', ctx, err);
      }
    }
  }

  /** A hook threw or rejected: logged and counted, never passed on (the hooks are isolated). */
  private hookFailed(cb: Callback, hook: Hook, ctx: Context, err: unknown): void {
    this.deps.metrics.callbackErrors.inc({ callback: cb.name, hook });
    this.deps.log.error('callback_failed', { callback: cb.name, hook, request_id: ctx.requestId, error: String(err) });
  }

  async reconfigure(config: ResolvedConfig): Promise<void> {
    for (const cb of this.callbacks) {
      try {
        await cb.onConfig(config);
      } catch (err) {
        this.deps.metrics.callbackErrors.inc({ callback: cb.name, hook: 'onConfig' });
        this.deps.log.error('callback_failed', { callback: cb.name, hook: 'onConfig', error: String(err) });
      }
    }
  }

  async close(): Promise<void> {
    for (const cb of this.callbacks) {
      try {
        await cb.close();
      } catch (err) {
        this.deps.log.error('callback_failed', { callback: cb.name, hook: 'close', error: String(err) });
      }
    }
  }
}
