// Prometheus metrics per request (README.md, "Metrics"), fed from the same context fields as the usage-log
// row so /metrics and the log agree. Label values come from the config only (a model name a
// client made up reads `unknown`), so series stay bounded; a handle per label set is cached so the
// hot path neither allocates nor rebuilds label keys.
import { Callback } from '../pipeline.js';
import type { Context } from '../context.js';
import { CounterHandle as C, HistogramHandle as H } from '../metric-handles.js';

interface Series {
  labels: { provider: string; model: string; capability: string };
  success: C;
  error: C;
  /** by error_type, created on first use: the codes are a fixed set in the gateway's source */
  errorsByType: Map<string, C>;
  latency: H;
  ttft: H;
  promptTokens: C;
  completionTokens: C;
  cost: C;
}

/** The logical model as a bounded label: configured name, `unknown` for a name not in config, `none` when absent. */
export function modelLabel(ctx: Context): string {
  if (ctx.model) return ctx.model.name;
  if (ctx.logicalModel === null) return 'none';
  return Object.hasOwn(ctx.config.models, ctx.logicalModel) ? ctx.logicalModel : 'unknown';
}

/** Capability and provider come from config, but guard anyway: a label must never come from the client. */
function capabilityLabel(ctx: Context): string {
  const c = ctx.capability;
  if (c === null) return 'none';
  return Object.hasOwn(ctx.config.capabilities, c) ? c : 'unknown';
}

function providerLabel(ctx: Context): string {
  const p = ctx.answeredBy?.provider ?? null;
  if (p === null) return 'none';
  return Object.hasOwn(ctx.config.providers, p) ? p : 'unknown';
}

/**
 * The error's `code` as the client's error body has it (what the usage log stores as
 * error_type). Codes are constants of the gateway, so the label set is bounded; `other` guards it.
 */
function errorTypeLabel(ctx: Context): string {
  const code = ctx.error?.code;
  return typeof code === 'string' && /^[a-z0-9_]{1,48}$/.test(code) ? code : 'other';
}

const positive = (v: number | null | undefined): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);

export class MetricsCallback extends Callback {
  readonly name = 'metrics';
  private readonly series = new Map<string, Map<string, Map<string, Series>>>();
  private readonly keySpend = new Map<string, C>();
  private readonly overhead = new H(this.deps.metrics.overhead, {});

  override onSuccess(ctx: Context): void {
    this.record(ctx, false);
  }

  override onError(ctx: Context): void {
    this.record(ctx, true);
  }

  private record(ctx: Context, failed: boolean): void {
    const s = this.seriesFor(providerLabel(ctx), modelLabel(ctx), capabilityLabel(ctx));
    (failed ? s.error : s.success).inc();
    if (failed) this.errorSeries(s, ctx).inc();
    const latencyMs = Number.isFinite(ctx.latencyMs) ? Math.max(0, ctx.latencyMs) : 0;
    s.latency.observe(latencyMs / 1000);
    if (ctx.stream && ctx.ttftMs !== null && Number.isFinite(ctx.ttftMs)) s.ttft.observe(Math.max(0, ctx.ttftMs) / 1000);
    const u = ctx.usage;
    if (u) {
      if (positive(u.prompt_tokens)) s.promptTokens.inc(u.prompt_tokens);
      if (positive(u.completion_tokens)) s.completionTokens.inc(u.completion_tokens);
    }
    if (positive(ctx.costUsd)) {
      s.cost.inc(ctx.costUsd);
      if (ctx.apiKey) this.keySeries(ctx.apiKey.alias).inc(ctx.costUsd);
    }
    const upstreamMs = Number.isFinite(ctx.upstreamMs) ? ctx.upstreamMs : 0;
    this.overhead.observe(Math.max(0, latencyMs - upstreamMs) / 1000);
  }

  /** one child per alias: bounded by the keys that exist, and aliases are plain names */
  private keySeries(alias: string): C {
    let c = this.keySpend.get(alias);
    if (!c) this.keySpend.set(alias, (c = new C(this.deps.metrics.keySpend, { key: alias })));
    return c;
  }

  private errorSeries(s: Series, ctx: Context): C {
    const type = errorTypeLabel(ctx);
    let c = s.errorsByType.get(type);
    if (!c) {
      c = new C(this.deps.metrics.errors, { ...s.labels, error_type: type });
      s.errorsByType.set(type, c);
    }
    return c;
  }

  private seriesFor(provider: string, model: string, capability: string): Series {
    let byModel = this.series.get(provider);
    if (!byModel) this.series.set(provider, (byModel = new Map()));
    let byCap = byModel.get(model);
    if (!byCap) byModel.set(model, (byCap = new Map()));
    let s = byCap.get(capability);
    if (!s) {
      const m = this.deps.metrics;
      s = {
        labels: { provider, model, capability },
        errorsByType: new Map(),
        success: new C(m.requests, { provider, model, capability, status: 'success' }),
        error: new C(m.requests, { provider, model, capability, status: 'error' }),
        latency: new H(m.latency, { provider, model, capability }),
        ttft: new H(m.ttft, { provider, model, capability }),
        promptTokens: new C(m.tokens, { provider, model, capability, type: 'prompt' }),
        completionTokens: new C(m.tokens, { provider, model, capability, type: 'completion' }),
        cost: new C(m.cost, { provider, model, capability }),
      };
      byCap.set(capability, s);
    }
    return s;
  }
}
