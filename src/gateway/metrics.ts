// Every Prometheus metric the gateway exposes (documented in README.md, "Metrics"), in one
// registry per gateway so tests can run several gateways in one process.
import client from 'prom-client';

/** `v` rounded to 3 significant digits, so bucket bounds read as plain numbers. */
const round3 = (v: number) => Number(v.toPrecision(3));

/**
 * Request latency buckets, 5 ms to 300 s. Between 0.1 s and 10 s, where LLM answers land, they
 * step by 10^(1/24) (about 10 %): histogram_quantile interpolates inside one bucket, so its
 * answer is then within about 10 % of the true quantile whatever the distribution. Coarser
 * buckets (0.5, 1, 2.5) put a p95 of 0.67 s at 0.88 s.
 */
export const LATENCY_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  ...Array.from({ length: 49 }, (_, k) => round3(10 ** (k / 24 - 1))),
  15,
  20,
  30,
  60,
  120,
  300,
];
// Gateway overhead is sub-millisecond when healthy: finer buckets, down to 50 µs.
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * prom-client's default gauges that promtool rejects: a gauge must not end in `_total`. Their
 * per-type versions without the suffix (`nodejs_active_handles{type}`, …) stay.
 */
const PROMTOOL_REJECTED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const LLM_LABELS = ['provider', 'model', 'capability'] as const;

export function createMetrics() {
  const registry = new client.Registry();
  const r = [registry];
  client.collectDefaultMetrics({ register: registry });
  for (const name of PROMTOOL_REJECTED_DEFAULTS) registry.removeSingleMetric(name);
  // Read at scrape time from whoever counts attempts (the routing states): an update per attempt
  // would cost two label lookups on every request for a figure read every few seconds.
  let inFlightSource: (() => Iterable<[string, number]>) | null = null;
  const inFlight = new client.Gauge({
    name: 'backend_llm_requests_in_flight',
    help: 'Upstream requests in progress, by provider.',
    labelNames: ['provider'],
    registers: r,
    collect() {
      if (inFlightSource === null) return;
      this.reset();
      for (const [provider, n] of inFlightSource()) this.set({ provider }, n);
    },
  });
  return {
    registry,
    requests: new client.Counter({
      name: 'backend_llm_requests_total',
      help: 'LLM requests by the provider that answered (none if rejected first), logical model, capability and status.',
      labelNames: [...LLM_LABELS, 'status'],
      registers: r,
    }),
    latency: new client.Histogram({
      name: 'backend_llm_latency_seconds',
      help: 'End-to-end request latency seen by the gateway.',
      labelNames: LLM_LABELS,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    ttft: new client.Histogram({
      name: 'backend_llm_time_to_first_token_seconds',
      help: 'Time from request start to the first content token (streamed requests).',
      labelNames: LLM_LABELS,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    errors: new client.Counter({
      name: 'backend_llm_errors_total',
      help: 'Failed LLM requests by error_type: the code of the error body, as in the usage log (model_not_found, budget_exceeded, upstream_error, ...).',
      labelNames: [...LLM_LABELS, 'error_type'],
      registers: r,
    }),
    inFlight,
    /** where the in-flight gauge reads its per-provider counts when scraped */
    readInFlightFrom(source: () => Iterable<[string, number]>): void {
      inFlightSource = source;
    },
    tokens: new client.Counter({
      name: 'backend_llm_tokens_total',
      help: 'Tokens by type (prompt or completion).',
      labelNames: [...LLM_LABELS, 'type'],
      registers: r,
    }),
    cost: new client.Counter({
      name: 'backend_llm_cost_usd_total',
      help: 'Estimated cost in US dollars.',
      labelNames: LLM_LABELS,
      registers: r,
    }),
    budgetExceeded: new client.Counter({
      name: 'backend_llm_budget_exceeded_total',
      help: 'Requests that found a budget exceeded (blocked or warned).',
      labelNames: ['scope', 'target'],
      registers: r,
    }),
    budgetSpend: new client.Gauge({
      name: 'backend_llm_budget_spend_usd',
      help: 'Spend in the rolling budget window.',
      labelNames: ['scope', 'target'],
      registers: r,
    }),
    budgetLimit: new client.Gauge({
      name: 'backend_llm_budget_limit_usd',
      help: 'Budget limit (max_budget_usd).',
      labelNames: ['scope', 'target'],
      registers: r,
    }),
    guardrailViolations: new client.Counter({
      name: 'backend_llm_guardrail_violations_total',
      help: 'Secrets found in prompts, by detector and action taken.',
      labelNames: ['detector', 'action'],
      registers: r,
    }),
    cacheRequests: new client.Counter({
      name: 'backend_llm_cache_requests_total',
      help: 'Cache lookups by result.',
      labelNames: ['result'],
      registers: r,
    }),
    overhead: new client.Histogram({
      name: 'backend_llm_gateway_overhead_seconds',
      help: 'Time the gateway itself added: total time minus time waiting on upstream.',
      buckets: OVERHEAD_BUCKETS,
      registers: r,
    }),
    callbackErrors: new client.Counter({
      name: 'backend_callback_errors_total',
      help: 'Exceptions thrown by pipeline callbacks (isolated from the response).',
      labelNames: ['callback', 'hook'],
      registers: r,
    }),
    usageLogErrors: new client.Counter({
      name: 'backend_usage_log_errors_total',
      help: 'Failed usage-log writes (rows are buffered and retried).',
      registers: r,
    }),
    usageLogBuffered: new client.Gauge({
      name: 'backend_usage_log_buffered_rows',
      help: 'Usage-log rows held in memory waiting for the database to accept writes.',
      registers: r,
    }),
    usageLogDropped: new client.Counter({
      name: 'backend_usage_log_dropped_rows_total',
      help: 'Usage-log rows dropped because the in-memory buffer was full.',
      registers: r,
    }),
    usageLogReopened: new client.Counter({
      name: 'backend_usage_log_reopened_total',
      help: 'Times the usage-log file was found deleted, moved or replaced while open, and recreated or adopted.',
      registers: r,
    }),
    budgetInvalidRows: new client.Counter({
      name: 'backend_budget_invalid_cost_rows_total',
      help: 'Usage-log rows with NULL or negative cost, ignored for budget spend.',
      registers: r,
    }),
    keySpend: new client.Counter({
      name: 'backend_llm_key_spend_usd_total',
      help: 'Cost in US dollars of the requests made with each virtual key (by alias).',
      labelNames: ['key'],
      registers: r,
    }),
    rateLimited: new client.Counter({
      name: 'backend_llm_rate_limited_total',
      help: 'Requests refused by a rate limit, by scope (key or model) and kind (requests or tokens).',
      labelNames: ['scope', 'kind'],
      registers: r,
    }),
    configReloads: new client.Counter({
      name: 'backend_config_reloads_total',
      help: 'Config reloads by result.',
      labelNames: ['result'],
      registers: r,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
