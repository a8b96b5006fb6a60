// The simulated upstream's engine side: vLLM-style /metrics whose counters and histograms move
// with the traffic the sim serves (queue and KV usage can be set, older metric names too), and
// Ollama-style /api/ps. Text is written the way prometheus_client writes it (HELP, TYPE,
// `model_name` label, `_total` counters, cumulative `le` buckets, `_count` and `_sum`).
import { createHash } from 'node:crypto';

export type SimEngineKind = 'vllm' | 'ollama';

export interface SimEngineSettings {
  /** vllm:num_requests_waiting */
  waiting?: number;
  /** vllm:kv_cache_usage_perc, 0..1 */
  kvUsage?: number;
  /** export vllm:gpu_cache_usage_perc, vllm:gpu_prefix_cache_* and time_per_output_token instead */
  legacyNames?: boolean;
  preemptions?: number;
  /** Ollama /api/ps entries; default: each model fully in VRAM, unloading in 5 minutes */
  loaded?: Array<Record<string, unknown>>;
}

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

class Hist {
  counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]) this.counts[i]++;
  }
}

const num = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));

/** What one simulated request reports back as it goes. */
export interface EngineRequest {
  firstToken(): void;
  token(): void;
  finish(reason: 'stop' | 'length' | 'abort', generated: number): void;
}

export class SimEngine {
  settings: Required<Omit<SimEngineSettings, 'loaded'>> & { loaded?: SimEngineSettings['loaded'] };
  running = 0;
  private promptTokens = 0;
  private generationTokens = 0;
  private prefixQueries = 0;
  private prefixHits = 0;
  private success = new Map<string, number>([
    ['stop', 0],
    ['length', 0],
    ['abort', 0],
  ]);
  private ttft = new Hist(TTFT_BUCKETS);
  private itl = new Hist(ITL_BUCKETS);
  private e2e = new Hist(E2E_BUCKETS);
  private seenPrompts = new Set<string>();

  constructor(
    readonly kind: SimEngineKind,
    readonly models: string[],
    settings: SimEngineSettings = {},
  ) {
    this.settings = { waiting: 0, kvUsage: 0, legacyNames: false, preemptions: 0 };
    this.set(settings);
  }

  set(s: SimEngineSettings): void {
    if (s.waiting !== undefined) this.settings.waiting = s.waiting;
    if (s.kvUsage !== undefined) this.settings.kvUsage = s.kvUsage;
    if (s.legacyNames !== undefined) this.settings.legacyNames = s.legacyNames;
    if (s.preemptions !== undefined) this.settings.preemptions = s.preemptions;
    if (s.loaded !== undefined) this.settings.loaded = s.loaded;
  }

  /** An engine restart: every counter and histogram back to zero. */
  restart(): void {
    this.promptTokens = this.generationTokens = this.prefixQueries = this.prefixHits = 0;
    for (const k of this.success.keys()) this.success.set(k, 0);
    this.ttft = new Hist(TTFT_BUCKETS);
    this.itl = new Hist(ITL_BUCKETS);
    this.e2e = new Hist(E2E_BUCKETS);
    this.seenPrompts.clear();
    this.settings.preemptions = 0;
  }

  /** A request starts: counted as running until finish(). */
  begin(promptText: string, promptTokens: number): EngineRequest {
    const t0 = performance.now();
    let last = t0;
    let done = false;
    this.running++;
    this.promptTokens += promptTokens;
    this.prefixQueries += promptTokens;
    // A prompt seen before is a full prefix-cache hit; a new one a miss.
    const key = createHash('sha1').update(promptText).digest('base64');
    if (this.seenPrompts.has(key)) this.prefixHits += promptTokens;
    else if (this.seenPrompts.size < 10_000) this.seenPrompts.add(key);
    return {
      firstToken: () => {
        last = performance.now();
        this.ttft.observe((last - t0) / 1000);
      },
      token: () => {
        const now = performance.now();
        this.itl.observe((now - last) / 1000);
        last = now;
      },
      finish: (reason, generated) => {
        if (done) return;
        done = true;
        this.running--;
        this.generationTokens += generated;
        this.success.set(reason, (this.success.get(reason) ?? 0) + 1);
        this.e2e.observe((performance.now() - t0) / 1000);
      },
    };
  }

  metricsText(): string {
    const legacy = this.settings.legacyNames;
    const label = `model_name="${this.models[0] ?? 'sim-model'}"`;
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    const gauge = (name: string, help: string, v: number) => metric(name, 'gauge', help, [`${name}{${label}} ${num(v)}`]);
    const counter = (name: string, help: string, v: number) => metric(name, 'counter', help, [`${name}_total{${label}} ${num(v)}`]);
    const hist = (name: string, help: string, h: Hist) =>
      metric(name, 'histogram', help, [
        ...h.bounds.map((b, i) => `${name}_bucket{le="${num(b)}",${label}} ${num(h.counts[i])}`),
        `${name}_bucket{le="+Inf",${label}} ${num(h.count)}`,
        `${name}_count{${label}} ${num(h.count)}`,
        `${name}_sum{${label}} ${num(h.sum)}`,
      ]);
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', this.running);
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', this.settings.waiting);
    if (legacy) gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', this.settings.kvUsage);
    else gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', this.settings.kvUsage);
    const prefix = legacy ? 'vllm:gpu_prefix_cache' : 'vllm:prefix_cache';
    counter(`${prefix}_queries`, 'Prefix cache queries, in terms of number of queried tokens.', this.prefixQueries);
    counter(`${prefix}_hits`, 'Prefix cache hits, in terms of number of cached tokens.', this.prefixHits);
    counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.', this.settings.preemptions);
    counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', this.promptTokens);
    counter('vllm:generation_tokens', 'Number of generation tokens processed.', this.generationTokens);
    metric(
      'vllm:request_success',
      'counter',
      'Count of successfully processed requests.',
      [...this.success].map(([reason, n]) => `vllm:request_success_total{finished_reason="${reason}",${label}} ${num(n)}`),
    );
    hist('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', this.ttft);
    hist(legacy ? 'vllm:time_per_output_token_seconds' : 'vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', this.itl);
    hist('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', this.e2e);
    return out.join('\n') + '\n';
  }

  /** Ollama's /api/ps body. */
  psBody(now = Date.now()): unknown {
    const loaded =
      this.settings.loaded ??
      this.models.map((name) => ({
        name,
        model: name,
        size: 4_000_000_000,
        size_vram: 4_000_000_000,
        digest: 'sim',
        details: { format: 'gguf', family: 'sim', parameter_size: '7B', quantization_level: 'Q4_0' },
        expires_at: new Date(now + 5 * 60_000).toISOString(),
        context_length: 4096,
      }));
    return { models: loaded };
  }
}
