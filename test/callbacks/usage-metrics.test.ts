import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.js';
import { MetricsCallback } from '../../src/gateway/callbacks/metrics.js';
import { MAX_ERROR_MESSAGE, UsageLogCallback } from '../../src/gateway/callbacks/usage-log.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { Callback, CallbackManager, type CallbackDeps } from '../../src/gateway/pipeline.js';
import { UsageLog } from '../../src/usage/log.js';
import type { StoredUsageRow } from '../../src/usage/schema.js';
import { tempDir } from '../helpers/usage.js';
import { hasTool, TOOLS } from '../helpers/tools.js';
import { callbackDeps, sampleResolvedConfig } from '../helpers/callbacks.js';
import { finishedContext, type Outcome } from '../helpers/context.js';

let config: ResolvedConfig;
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
let usage: UsageLog;
let deps: CallbackDeps;
let logLines: string[];
let manager: CallbackManager;

beforeAll(() => {
  config = sampleResolvedConfig();
});
beforeEach(() => {
  tmp = tempDir();
  dbPath = path.join(tmp.dir, 'usage', 'llm_usage.db');
  usage = UsageLog.open(dbPath);
  logLines = [];
  deps = callbackDeps(config, usage, logLines);
  manager = new CallbackManager([new UsageLogCallback(deps), new MetricsCallback(deps)], deps);
});
afterEach(() => {
  usage.close();
  tmp.cleanup();
});

function rows(): StoredUsageRow[] {
  return usage.db.prepare('SELECT * FROM llm_usage ORDER BY id').all() as StoredUsageRow[];
}

async function finish(o: Outcome) {
  const ctx = finishedContext(config, o);
  if (ctx.error) await manager.runError(ctx);
  else await manager.runSuccess(ctx);
  return ctx;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

async function samples(name: string): Promise<Sample[]> {
  const m = deps.metrics.registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  return (await m.get()).values as Sample[];
}

async function sumOf(name: string, where: Record<string, string> = {}, metricName?: string): Promise<number> {
  let s = 0;
  for (const v of await samples(name)) {
    if (metricName && v.metricName !== metricName) continue;
    if (Object.entries(where).every(([k, val]) => v.labels[k] === val)) s += v.value;
  }
  return s;
}

describe('usage-log callback', () => {
  it('a successful non-streamed request: every column from the context, no prompt text', async () => {
    const ctx = await finish({ usage: { prompt_tokens: 1000, completion_tokens: 2000 }, costUsd: 0.0225, latencyMs: 812.5, attempts: 2, provider: 'openai' });
    const [r] = rows();
    expect(r).toEqual({
      id: 1,
      request_id: ctx.requestId,
      timestamp: new Date(ctx.startedAt).toISOString(),
      provider: 'openai',
      logical_model: 'gpt-4',
      concrete_model: 'gpt-4o',
      capability: 'chat',
      endpoint: 'chat',
      stream: 0,
      prompt_tokens: 1000,
      completion_tokens: 2000,
      total_tokens: 3000,
      cost_usd: 0.0225,
      latency_ms: 812.5,
      ttft_ms: null,
      status: 'success',
      http_status: 200,
      error_type: null,
      error_message: null,
      cache_hit: 0,
      attempts: 2,
      usage_source: 'upstream',
      key_alias: null,
    });
    expect(r!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('a request rejected before routing (unknown model): error row with type, status and the asked name', async () => {
    await finish({
      logicalModel: 'made-up-model',
      usage: null,
      error: new GatewayError(404, 'model_not_found', 'model "made-up-model" not found (known: gpt-4, code, embed)'),
    });
    const [r] = rows();
    expect(r).toMatchObject({
      provider: null,
      logical_model: 'made-up-model',
      concrete_model: null,
      capability: null,
      status: 'error',
      http_status: 404,
      error_type: 'model_not_found',
      error_message: 'model "made-up-model" not found (known: gpt-4, code, embed)',
      prompt_tokens: null,
      total_tokens: null,
      cost_usd: 0,
      attempts: 0,
    });
  });

  it('error_message is one short line; prompt text from the body never reaches the file', async () => {
    const long = 'upstream said:\n' + 'x'.repeat(5000);
    await finish({ error: new GatewayError(502, 'upstream_error', long), usage: null });
    const [r] = rows();
    expect(r!.error_message!.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE);
    expect(r!.error_message).not.toMatch(/\n/);
    usage.close();
    for (const f of [dbPath, dbPath + '-wal']) {
      if (fs.existsSync(f)) expect(fs.readFileSync(f).includes('PROMPT-TEXT-MUST-NOT-BE-STORED')).toBe(false);
    }
  });

  it('a JSON.parse message that quotes the body (V8 does) is stored without the quote', async () => {
    const bodies = ['my secret prompt sk-proj-abcdefghijklmnop', '[1, 2, my secret prompt that goes on and on and on and on'];
    for (const body of bodies) {
      let message = '';
      try {
        JSON.parse(body);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain('my secret');
      await finish({ logicalModel: null, usage: null, error: new GatewayError(400, 'invalid_request_error', `invalid JSON body: ${message}`) });
    }
    await finish({ logicalModel: null, usage: null, error: new GatewayError(400, 'invalid_request_error', '"abc" is not valid JSON') });
    const stored = rows().map((r) => r.error_message);
    expect(stored).toEqual([
      "invalid JSON body: Unexpected token 'm' in a body that is not valid JSON",
      "invalid JSON body: Unexpected token 'm' in a body that is not valid JSON",
      'body is not valid JSON',
    ]);
  });

  it('a cache hit is logged with cache_hit=1 and cost 0', async () => {
    await finish({ cacheHit: true, costUsd: 0.5, upstreamMs: 0, latencyMs: 2 });
    expect(rows()[0]).toMatchObject({ cache_hit: 1, cost_usd: 0, status: 'success' });
    expect(await sumOf('backend_llm_cost_usd_total')).toBe(0);
  });

  it('a client that went away mid-stream: status error, client_closed, 499, partial usage kept', async () => {
    await finish({
      stream: true,
      ttftMs: 30,
      httpStatus: 499,
      error: new GatewayError(499, 'client_closed', 'client closed the connection'),
      usage: null,
    });
    expect(rows()[0]).toMatchObject({ status: 'error', http_status: 499, error_type: 'client_closed', stream: 1, ttft_ms: 30 });
  });
});

describe('metrics callback', () => {
  it('counts by provider, logical model, capability and status; tokens by type; cost; latency; overhead', async () => {
    await finish({ usage: { prompt_tokens: 100, completion_tokens: 50 }, costUsd: 0.001, latencyMs: 1500, upstreamMs: 1499 });
    await finish({ error: new GatewayError(502, 'upstream_error', 'all targets failed'), usage: null, latencyMs: 30, upstreamMs: 20 });
    const labels = { provider: 'vllm', model: 'gpt-4', capability: 'chat' };
    expect(await sumOf('backend_llm_requests_total', { ...labels, status: 'success' })).toBe(1);
    expect(await sumOf('backend_llm_requests_total', { ...labels, status: 'error' })).toBe(1);
    expect(await sumOf('backend_llm_tokens_total', { ...labels, type: 'prompt' })).toBe(100);
    expect(await sumOf('backend_llm_tokens_total', { ...labels, type: 'completion' })).toBe(50);
    expect(await sumOf('backend_llm_cost_usd_total', labels)).toBeCloseTo(0.001, 12);
    expect(await sumOf('backend_llm_latency_seconds', labels, 'backend_llm_latency_seconds_count')).toBe(2);
    expect(await sumOf('backend_llm_latency_seconds', labels, 'backend_llm_latency_seconds_sum')).toBeCloseTo(1.53, 9);
    expect(await sumOf('backend_llm_gateway_overhead_seconds', {}, 'backend_llm_gateway_overhead_seconds_sum')).toBeCloseTo(0.011, 9);
    // nothing streamed: no TTFT observation
    expect(await sumOf('backend_llm_time_to_first_token_seconds', {}, 'backend_llm_time_to_first_token_seconds_count')).toBe(0);
  });

  it('TTFT only for streamed requests where it was measured', async () => {
    await finish({ stream: true, ttftMs: 120 });
    await finish({ stream: true, ttftMs: null });
    await finish({ stream: false, ttftMs: 50 });
    expect(await sumOf('backend_llm_time_to_first_token_seconds', {}, 'backend_llm_time_to_first_token_seconds_count')).toBe(1);
    expect(await sumOf('backend_llm_time_to_first_token_seconds', {}, 'backend_llm_time_to_first_token_seconds_sum')).toBeCloseTo(0.12, 9);
  });

  it('client-chosen model names never create label series: rejected ones read provider=none model=unknown capability=none', async () => {
    for (let i = 0; i < 50; i++) {
      await finish({ logicalModel: `random-${i}`, usage: null, error: new GatewayError(404, 'model_not_found', 'not found') });
    }
    await finish({ logicalModel: null, usage: null, error: new GatewayError(400, 'invalid_request_error', 'bad JSON') });
    const series = (await samples('backend_llm_requests_total')).filter((s) => s.value > 0);
    expect(series.map((s) => s.labels).sort((a, b) => String(a.model).localeCompare(String(b.model)))).toEqual([
      { provider: 'none', model: 'none', capability: 'none', status: 'error' },
      { provider: 'none', model: 'unknown', capability: 'none', status: 'error' },
    ]);
    expect(series.find((s) => s.labels.model === 'unknown')!.value).toBe(50);
    const text = await deps.metrics.registry.metrics();
    expect(text).not.toMatch(/random-/);
  });

  it('after a mixed run, request counts, token sums and cost sums in /metrics equal the usage log', async () => {
    const err = (s: number, t: 'upstream_error' | 'budget_exceeded' | 'guardrail_violation' | 'upstream_timeout') =>
      new GatewayError(s, t, t);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 300; i++) {
      const k = i % 10;
      const model = ['gpt-4', 'code', 'embed', 'nope'][i % 4]!;
      outcomes.push({
        logicalModel: model,
        provider: model === 'gpt-4' && k < 3 ? 'openai' : undefined,
        stream: k % 2 === 0,
        endpoint: model === 'embed' ? 'embeddings' : 'chat',
        usage: model === 'nope' || k === 9 ? null : { prompt_tokens: 7 * i + 1, completion_tokens: model === 'embed' ? 0 : 3 * i },
        costUsd: model === 'gpt-4' && k < 3 ? (7 * i + 1) * 2.5e-6 + 3 * i * 1e-5 : 0,
        cacheHit: k === 4,
        error:
          model === 'nope'
            ? new GatewayError(404, 'model_not_found', 'unknown')
            : k === 9
              ? err(i % 2 ? 502 : 429, i % 2 ? 'upstream_error' : 'budget_exceeded')
              : null,
        latencyMs: 10 + i,
      });
    }
    for (const o of outcomes) await finish(o);
    const db = usage.db;
    const logTotals = db
      .prepare(
        `SELECT count(*) AS n, sum(status='error') AS errors, coalesce(sum(prompt_tokens),0) AS p,
                coalesce(sum(completion_tokens),0) AS c, coalesce(sum(cost_usd),0) AS cost FROM llm_usage`,
      )
      .get() as { n: number; errors: number; p: number; c: number; cost: number };
    expect(logTotals.n).toBe(300);
    expect(await sumOf('backend_llm_requests_total')).toBe(logTotals.n);
    expect(await sumOf('backend_llm_requests_total', { status: 'error' })).toBe(logTotals.errors);
    expect(await sumOf('backend_llm_tokens_total', { type: 'prompt' })).toBe(logTotals.p);
    expect(await sumOf('backend_llm_tokens_total', { type: 'completion' })).toBe(logTotals.c);
    expect(await sumOf('backend_llm_cost_usd_total')).toBeCloseTo(logTotals.cost, 9);
    expect(logTotals.cost).toBeGreaterThan(0);
    // and per label set: provider/model/capability in the log map onto the same series
    const perProvider = db
      .prepare(`SELECT coalesce(provider,'none') AS provider, count(*) AS n, coalesce(sum(cost_usd),0) AS cost FROM llm_usage GROUP BY 1`)
      .all() as { provider: string; n: number; cost: number }[];
    for (const p of perProvider) {
      expect(await sumOf('backend_llm_requests_total', { provider: p.provider })).toBe(p.n);
      expect(await sumOf('backend_llm_cost_usd_total', { provider: p.provider })).toBeCloseTo(p.cost, 9);
    }
  });

  it.runIf(hasTool(TOOLS.promtool))('the exposition passes promtool check metrics', async () => {
    await finish({ stream: true, ttftMs: 10, costUsd: 0.01, provider: 'openai' });
    await finish({ logicalModel: 'x', usage: null, error: new GatewayError(404, 'model_not_found', 'x') });
    const text = await deps.metrics.registry.metrics();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});

describe('usage-log hooks wired to metrics', () => {
  it('a locked database: errors counted, buffered gauge up then back to 0, the row lands', async () => {
    usage.close();
    const locked = UsageLog.open(dbPath, {}, { busyTimeoutMs: 5, retryMs: 60_000 });
    const d = callbackDeps(config, locked, logLines);
    const m = new CallbackManager([new UsageLogCallback(d), new MetricsCallback(d)], d);
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    await m.runSuccess(finishedContext(config));
    expect((await d.metrics.usageLogErrors.get()).values[0]!.value).toBe(1);
    expect((await d.metrics.usageLogBuffered.get()).values[0]!.value).toBe(1);
    expect(locked.degradedReason).toBe('usage log: database is locked');
    expect(logLines.some((l) => JSON.parse(l).event === 'usage_log_write_failed')).toBe(true);
    other.exec('COMMIT');
    other.close();
    await m.close(); // the callback's close flushes
    expect((await d.metrics.usageLogBuffered.get()).values[0]!.value).toBe(0);
    expect(locked.db.prepare('SELECT count(*) FROM llm_usage').pluck().get()).toBe(1);
    locked.close();
    usage = UsageLog.open(dbPath); // for afterEach
  });
});

describe('the held-back end of a success', () => {
  it("goes out once the usage row is committed ('tick' batching), before the metrics, and with a failing callback too", async () => {
    usage.close();
    const ticked = UsageLog.open(dbPath, {}, { batch: 'tick' });
    const d = callbackDeps(config, ticked, logLines);
    const seen: string[] = [];
    const committed = () => ticked.db.prepare('SELECT count(*) FROM llm_usage').pluck().get() as number;
    class Failing extends Callback {
      readonly name = 'failing';
      override onSuccess(): Promise<void> {
        seen.push('failing');
        return Promise.reject(new Error('boom'));
      }
    }
    class Metrics extends MetricsCallback {
      override onSuccess(ctx: Parameters<MetricsCallback['onSuccess']>[0]): void {
        seen.push('metrics');
        super.onSuccess(ctx);
      }
    }
    const m = new CallbackManager([new Failing(d), new UsageLogCallback(d), new Metrics(d)], d);
    await m.runSuccess(finishedContext(config), () => seen.push(`answer after ${committed()} row(s)`));
    expect(seen).toEqual(['failing', 'answer after 1 row(s)', 'metrics']);
    expect(logLines.some((l) => JSON.parse(l).event === 'callback_failed')).toBe(true);

    // without a callback that holds the answer, it goes out after all of them
    seen.length = 0;
    await new CallbackManager([new Metrics(d)], d).runSuccess(finishedContext(config), () => seen.push('answer'));
    expect(seen).toEqual(['metrics', 'answer']);
    ticked.close();
    usage = UsageLog.open(dbPath); // for afterEach
  });

  it('the only request in flight commits its row at once; with others on their way, rows wait for the turn and share it', async () => {
    usage.close();
    const ticked = UsageLog.open(dbPath, {}, { batch: 'tick' });
    const d = callbackDeps(config, ticked, logLines);
    const cb = new UsageLogCallback(d);
    const committed = () => ticked.db.prepare('SELECT count(*) FROM llm_usage').pluck().get() as number;
    const [a, b, c] = [finishedContext(config), finishedContext(config), finishedContext(config)];
    for (const ctx of [a, b]) cb.onRequest(ctx);
    const wroteA = cb.onSuccess(a); // b is still on its way: a's row waits for the turn
    expect(committed()).toBe(0);
    const wroteB = cb.onSuccess(b); // the last one in flight: both rows go now, in one commit
    expect(committed()).toBe(2);
    await Promise.all([wroteA, wroteB]);
    cb.onRequest(c);
    cb.onError(c); // an error's row is not waited for: it goes with the turn
    expect(committed()).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(committed()).toBe(3);
    ticked.close();
    usage = UsageLog.open(dbPath); // for afterEach
  });
});
