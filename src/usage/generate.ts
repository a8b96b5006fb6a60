// Synthetic usage-log rows for benchmarks and demos: plausible traffic (several models and
// providers, streamed and not, cache hits, each kind of error) spread evenly over a time range,
// written in large transactions through the same INSERT the gateway uses.
import { USAGE_INSERT_SQL } from './log.js';
import type { Db } from './db.js';

export interface GeneratedModel {
  logical_model: string;
  provider: string;
  concrete_model: string;
  capability: string;
  endpoint: 'chat' | 'completions' | 'embeddings';
  /** USD per 1M tokens; 0 for local GPUs */
  input_usd_per_1m: number;
  output_usd_per_1m: number;
  /** relative share of traffic */
  weight: number;
}

export interface GenerateOptions {
  /** first request start, epoch ms (default: endMs - 24 h) */
  startMs?: number;
  /** last request start, epoch ms (default: now) */
  endMs?: number;
  /** PRNG seed, so a benchmark log is the same every run */
  seed?: number;
  models?: GeneratedModel[];
  /** share of requests that fail (default 0.03) */
  errorRate?: number;
  /** share of successes served from cache (default 0.05) */
  cacheHitRate?: number;
  /** rows per transaction (default 50 000) */
  batchSize?: number;
  /** called after each transaction with the rows written so far */
  onProgress?(written: number): void;
}

export const DEFAULT_GENERATED_MODELS: GeneratedModel[] = [
  { logical_model: 'gpt-4', provider: 'vllm', concrete_model: 'meta-llama/Llama-3.1-70B-Instruct', capability: 'chat', endpoint: 'chat', input_usd_per_1m: 0, output_usd_per_1m: 0, weight: 50 },
  { logical_model: 'gpt-4', provider: 'openai', concrete_model: 'gpt-4o', capability: 'chat', endpoint: 'chat', input_usd_per_1m: 2.5, output_usd_per_1m: 10, weight: 5 },
  { logical_model: 'code', provider: 'ollama', concrete_model: 'qwen2.5-coder:7b', capability: 'code', endpoint: 'chat', input_usd_per_1m: 0, output_usd_per_1m: 0, weight: 25 },
  { logical_model: 'code', provider: 'ollama', concrete_model: 'qwen2.5-coder:7b', capability: 'code', endpoint: 'completions', input_usd_per_1m: 0, output_usd_per_1m: 0, weight: 5 },
  { logical_model: 'embed', provider: 'ollama', concrete_model: 'nomic-embed-text', capability: 'embeddings', endpoint: 'embeddings', input_usd_per_1m: 0, output_usd_per_1m: 0, weight: 15 },
];

// Failures as the gateway records them: [http_status, error_type, error_message, reached upstream]
const ERRORS: ReadonlyArray<readonly [number, string, string, boolean]> = [
  [502, 'upstream_error', 'all targets failed: upstream answered 500', true],
  [504, 'upstream_timeout', 'upstream timed out after 600 s', true],
  [499, 'client_closed', 'client closed the connection', true],
  [429, 'budget_exceeded', 'budget exceeded: model gpt-4 (5 USD per 12h)', false],
  [400, 'guardrail_violation', 'prompt contains secrets: openai_key', false],
  [404, 'model_not_found', 'model "gpt4" not found (known: gpt-4, code, embed)', false],
  [400, 'invalid_request_error', 'invalid JSON body', false],
];

/** mulberry32: small, fast, seedable; also what the tests use to make replayable inputs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `n` rows; returns how many were written. */
export function generateRows(db: Db, n: number, opts: GenerateOptions = {}): number {
  const endMs = opts.endMs ?? Date.now();
  const startMs = opts.startMs ?? endMs - 24 * 3600_000;
  const rnd = mulberry32(opts.seed ?? 42);
  const models = opts.models ?? DEFAULT_GENERATED_MODELS;
  const errorRate = opts.errorRate ?? 0.03;
  const cacheHitRate = opts.cacheHitRate ?? 0.05;
  const batch = Math.max(1, opts.batchSize ?? 50_000);
  const totalWeight = models.reduce((s, m) => s + m.weight, 0);
  const step = n > 1 ? (endMs - startMs) / (n - 1) : 0;
  const stmt = db.prepare(USAGE_INSERT_SQL);
  // Log-normal-ish: most requests take ~0.5-3 s, a long tail to a minute.
  const logNormal = (median: number, spread: number) => median * Math.exp(spread * (rnd() + rnd() + rnd() - 1.5));

  const pick = (): GeneratedModel => {
    let r = rnd() * totalWeight;
    for (const m of models) if ((r -= m.weight) <= 0) return m;
    return models[models.length - 1]!;
  };

  // A bigger page cache keeps the index B-trees in memory between batches; restored afterwards.
  // Generated rows need no crash safety: skipping fsync at each checkpoint halves the time.
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('cache_size = -262144');
  db.pragma('synchronous = OFF');
  let written = 0;
  const writeBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const m = pick();
      const startedAt = Math.round(startMs + i * step);
      const isEmbed = m.endpoint === 'embeddings';
      const stream = !isEmbed && rnd() < 0.6;
      const failed = rnd() < errorRate;
      const err = failed ? ERRORS[Math.floor(rnd() * ERRORS.length)]! : null;
      const reached = !err || err[3];
      const cacheHit = !failed && rnd() < cacheHitRate;
      const prompt = reached ? Math.round(logNormal(isEmbed ? 60 : 600, 1.2)) : null;
      const completion = reached && !isEmbed ? Math.round(err ? logNormal(40, 1) : logNormal(250, 1.2)) : reached ? 0 : null;
      const latency = !reached ? 0.2 + rnd() : cacheHit ? 1 + rnd() * 3 : isEmbed ? logNormal(40, 0.8) : logNormal(1500, 1.4);
      const cost =
        cacheHit || prompt === null ? 0 : (prompt * m.input_usd_per_1m + (completion ?? 0) * m.output_usd_per_1m) / 1e6;
      const badModel = err && err[1] === 'model_not_found';
      const noModel = err && err[1] === 'invalid_request_error';
      stmt.run(
        `gen-${startedAt.toString(36)}-${i.toString(36)}`,
        new Date(startedAt).toISOString(),
        reached ? m.provider : null,
        noModel ? null : badModel ? 'gpt4' : m.logical_model,
        reached ? m.concrete_model : null,
        badModel || noModel ? null : m.capability,
        m.endpoint,
        stream ? 1 : 0,
        prompt,
        completion,
        prompt === null ? null : prompt + (completion ?? 0),
        cost,
        Math.round(latency * 1000) / 1000,
        stream && reached && !cacheHit ? Math.round(Math.min(latency, logNormal(150, 0.8)) * 1000) / 1000 : null,
        err ? 'error' : 'success',
        err ? err[0] : 200,
        err ? err[1] : null,
        err ? err[2] : null,
        cacheHit ? 1 : 0,
        !reached ? 0 : cacheHit ? 0 : rnd() < 0.02 ? 2 : 1,
        prompt === null ? null : 'upstream',
        null,
      );
    }
  });
  try {
    for (let from = 0; from < n; from += batch) {
      const to = Math.min(n, from + batch);
      writeBatch(from, to);
      written = to;
      opts.onProgress?.(written);
    }
  } finally {
    db.pragma(`cache_size = ${cacheSize}`);
    db.pragma(`synchronous = ${synchronous}`);
  }
  return written;
}
