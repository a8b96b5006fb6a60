// Shared bits of the gateway-level policy suites: a home whose models point at the simulated
// upstream with prices and budgets, JSON posts, and a usage log pre-filled before start.
import { UsageLog } from '../../src/usage/log.js';
import type { UsageRow } from '../../src/usage/schema.js';
import { makeSimHome, type SimHomeOptions } from '../helpers/gateway.js';
import { sampleRow } from '../helpers/usage.js';
import path from 'node:path';
import { PRICE } from '../helpers/callbacks.js';

/** $1 per 1000 tokens: a sim reply of p prompt words and c completion tokens costs (p + c) / 1000. */
export { PRICE };

export function pricedHome(simUrl: string, o: SimHomeOptions & { budget?: unknown; capabilityBudget?: unknown; simBudget?: unknown } = {}) {
  return makeSimHome(simUrl, {
    ...o,
    providers: { ...(o.providers ?? {}) },
    models: o.models ?? {
      chat: { capability: 'chat', ...(o.budget ? { budget: o.budget } : {}), targets: [{ provider: 'sim', model: 'sim-model', pricing: PRICE }] },
      embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
    },
  });
}

/** Model `chat` under a `block` budget of limitUsd per hour, priced at PRICE; `open` the same without a budget. */
export function blockBudgetHome(simUrl: string, limitUsd: number) {
  const target = { provider: 'sim', model: 'sim-model', pricing: PRICE };
  return pricedHome(simUrl, {
    models: {
      chat: { capability: 'chat', budget: { max_budget_usd: limitUsd, budget_window: '1h', action: 'block' }, targets: [target] },
      open: { capability: 'chat', targets: [target] },
    },
  });
}

/** Rows written into <runtime>/usage/llm_usage.db before the gateway starts (as a previous run would have). */
export function prefillUsage(runtimeDir: string, rows: Array<Partial<UsageRow>>): void {
  const log = UsageLog.open(path.join(runtimeDir, 'usage', 'llm_usage.db'));
  let i = 0;
  for (const r of rows) {
    log.insert(
      sampleRow({
        request_id: `prefill-${++i}`,
        timestamp: new Date().toISOString(),
        provider: 'sim',
        logical_model: 'chat',
        concrete_model: 'sim-model',
        stream: 0,
        ttft_ms: null,
        cost_usd: 0,
        ...r,
      }),
    );
  }
  log.close();
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // SSE or not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'chat',
  messages: [{ role: 'user', content }],
  ...extra,
});

export async function metricsText(gwUrl: string): Promise<string> {
  return (await fetch(`${gwUrl}/metrics`)).text();
}

/** The value of one Prometheus sample line, e.g. metric('backend_llm_cache_requests_total{result="hit"}'). */
export function metric(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return 0;
}
