// The one place the pipeline is assembled: the built-in callbacks in their fixed
// order, plus the extra modules listed under `callbacks:` in gateway.yaml. Extras run after the
// cache and before the usage log and metrics, so they see guarded, admitted requests and the
// log records what they did.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResolvedConfig } from '../../config/load.js';
import { Callback, CallbackManager, type CallbackClass, type CallbackDeps } from '../pipeline.js';
import type { Context } from '../context.js';
import { BoundedCallback, importWithin } from './bounded.js';
import { BudgetsCallback } from './budgets.js';
import { CacheCallback } from './cache.js';
import { GuardrailsCallback } from './guardrails.js';
import { MetricsCallback } from './metrics.js';
import { RateLimitsCallback } from '../ratelimit/callback.js';
import { UsageLogCallback } from './usage-log.js';

/** Before the upstream call, in this order. */
export const PRE_CALLBACKS: readonly CallbackClass[] = [RateLimitsCallback, GuardrailsCallback, BudgetsCallback, CacheCallback];
/** Record the outcome; always last. */
export const RECORD_CALLBACKS: readonly CallbackClass[] = [UsageLogCallback, MetricsCallback];

type Hooks = Partial<Pick<Callback, 'onRequest' | 'onSuccess' | 'onError' | 'onConfig' | 'close'>> & { name?: unknown };

/** An extra module's callback that does not extend our base class (it cannot always import it). */
class ModuleCallback extends Callback {
  constructor(
    deps: CallbackDeps,
    readonly name: string,
    private readonly inner: Hooks,
  ) {
    super(deps);
  }
  override onRequest(ctx: Context) {
    return this.inner.onRequest?.call(this.inner, ctx);
  }
  override onSuccess(ctx: Context) {
    return this.inner.onSuccess?.call(this.inner, ctx);
  }
  override onError(ctx: Context) {
    return this.inner.onError?.call(this.inner, ctx);
  }
  override onConfig(config: ResolvedConfig) {
    return this.inner.onConfig?.call(this.inner, config);
  }
  override close() {
    return this.inner.close?.call(this.inner);
  }
}

/**
 * Loads one extra module: its default export is a class (constructed with the deps, ideally
 * extending Callback) or a plain object with the hooks. Throws an Error naming the file.
 */
export async function loadCallbackModule(home: string, rel: string, deps: CallbackDeps): Promise<Callback> {
  const file = path.resolve(home, rel);
  let mod: { default?: unknown };
  try {
    mod = await importWithin(pathToFileURL(file).href, rel);
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.startsWith('callback module') ? message : `cannot load callback module ${rel}: ${message}`);
  }
  const exp = mod.default;
  let instance: unknown;
  if (typeof exp === 'function') {
    try {
      instance = new (exp as CallbackClass)(deps);
    } catch (err) {
      throw new Error(`callback module ${rel}: constructor failed: ${(err as Error).message}`);
    }
  } else if (exp && typeof exp === 'object') instance = exp;
  else throw new Error(`callback module ${rel}: default export must be a Callback class or an object with hooks`);
  if (instance instanceof Callback) return instance;
  const hooks = instance as Hooks;
  const name = typeof hooks.name === 'string' && hooks.name ? hooks.name : path.basename(rel);
  return new ModuleCallback(deps, name, hooks);
}

export interface Pipeline {
  manager: CallbackManager;
  /** null only when the pipeline is off for a benchmark */
  budgets: BudgetsCallback | null;
}

export async function buildPipeline(deps: CallbackDeps, config: ResolvedConfig): Promise<Pipeline> {
  // bench/gateway-overhead.mjs measures the bare proxy next to the full pipeline to show what the
  // callbacks cost; not a user setting, so it is read here and documented only in BENCHMARKS.md.
  if (process.env.PTUI_BENCH_NO_PIPELINE === '1') return { manager: new CallbackManager([], deps), budgets: null };
  const pre = PRE_CALLBACKS.map((C) => new C(deps));
  const extras: Callback[] = [];
  for (const rel of config.gateway.callbacks) extras.push(new BoundedCallback(deps, await loadCallbackModule(config.paths.home, rel, deps)));
  const record = RECORD_CALLBACKS.map((C) => new C(deps));
  const callbacks = [...pre, ...extras, ...record];
  const budgets = callbacks.find((c): c is BudgetsCallback => c instanceof BudgetsCallback)!;
  return { manager: new CallbackManager(callbacks, deps), budgets };
}
