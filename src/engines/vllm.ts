// vLLM's /metrics read into the figures an operator watches. Names follow vLLM's production
// metrics documentation, newest first with the names older servers used after them. A figure
// whose names are all absent is "unsupported" (null, and listed), never 0. Rates and latency
// quantiles are differences between scrapes; a counter that went down means the engine
// restarted, and the history starts over rather than producing a negative rate.
import { bucketDelta, bucketsOf, quantile, type Buckets } from './histogram.js';
import type { ParsedMetrics, Sample } from './prom-text.js';
import type { VllmFigures } from './types.js';

/** Each figure's metric names, preferred first. Counters appear with and without `_total`. */
export const VLLM_NAMES = {
  running: ['vllm:num_requests_running'],
  waiting: ['vllm:num_requests_waiting'],
  kv_usage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  prefix_hits: ['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_hits', 'vllm:gpu_prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits'],
  prefix_queries: [
    'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_queries',
    'vllm:gpu_prefix_cache_queries_total',
    'vllm:gpu_prefix_cache_queries',
  ],
  prompt_tokens: ['vllm:prompt_tokens_total', 'vllm:prompt_tokens'],
  generation_tokens: ['vllm:generation_tokens_total', 'vllm:generation_tokens'],
  preemptions: ['vllm:num_preemptions_total', 'vllm:num_preemptions'],
  success: ['vllm:request_success_total', 'vllm:request_success'],
  ttft: ['vllm:time_to_first_token_seconds'],
  inter_token: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
  e2e: ['vllm:e2e_request_latency_seconds'],
} as const;

const COUNTERS = ['prefix_hits', 'prefix_queries', 'prompt_tokens', 'generation_tokens'] as const;
const HISTOGRAMS = ['ttft', 'inter_token', 'e2e'] as const;
type CounterKey = (typeof COUNTERS)[number];
type HistogramKey = (typeof HISTOGRAMS)[number];

/** Rates cover about this much time, latency quantiles up to the longer window. */
export const RATE_WINDOW_MS = 10_000;
export const LATENCY_WINDOW_MS = 60_000;
const HOUR_MS = 3_600_000;
const HOUR_STEP_MS = 60_000;

interface Point {
  at: number;
  counters: Partial<Record<CounterKey, number>>;
  hists: Partial<Record<HistogramKey, Buckets>>;
}

function first(m: ParsedMetrics, names: readonly string[]): Sample[] | undefined {
  for (const n of names) {
    const s = m.series.get(n);
    if (s && s.length) return s;
  }
  return undefined;
}

const sum = (s: Sample[]) => s.reduce((a, x) => a + x.value, 0);
const round = (x: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export class VllmReader {
  private history: Point[] = [];
  /** sparse points (one a minute) of the generation counter, for the last hour's tokens */
  private hourly: Array<{ at: number; value: number }> = [];
  restarts = 0;

  /** Figures from one scrape at monotonic time `at` (ms). */
  read(m: ParsedMetrics, at: number): VllmFigures {
    const unsupported: string[] = [];
    const gauge = (key: 'running' | 'waiting' | 'kv_usage', combine: (s: Sample[]) => number, max: number) => {
      const s = first(m, VLLM_NAMES[key]);
      if (!s) {
        unsupported.push(key);
        return null;
      }
      const v = combine(s);
      return v >= 0 && v <= max ? v : null;
    };
    const running = gauge('running', sum, Number.MAX_SAFE_INTEGER);
    const waiting = gauge('waiting', sum, Number.MAX_SAFE_INTEGER);
    // Data-parallel servers export one series per engine: the fullest cache is what saturates.
    const kv = gauge('kv_usage', (s) => s.reduce((a, x) => Math.max(a, x.value), -Infinity), 1);

    const point: Point = { at, counters: {}, hists: {} };
    for (const k of COUNTERS) {
      const s = first(m, VLLM_NAMES[k]);
      if (s) point.counters[k] = sum(s);
    }
    for (const k of HISTOGRAMS) {
      const b = bucketsOf(first(m, VLLM_NAMES[k].map((n) => `${n}_bucket`)));
      if (b) point.hists[k] = b;
    }
    this.push(point);

    const rateBase = this.base(at, RATE_WINDOW_MS);
    const latencyBase = this.base(at, LATENCY_WINDOW_MS);
    const counterDelta = (k: CounterKey): number | null => {
      const now = point.counters[k];
      const before = rateBase?.counters[k];
      if (now === undefined || before === undefined) return null;
      return now - before; // never negative: a decrease reset the history in push()
    };
    const rate = (k: CounterKey, figureName: string): number | null => {
      if (point.counters[k] === undefined) {
        unsupported.push(figureName);
        return null;
      }
      const d = counterDelta(k);
      return d === null || !rateBase ? null : round(d / ((at - rateBase.at) / 1000), 2);
    };

    let prefix: number | null = null;
    if (point.counters.prefix_hits === undefined || point.counters.prefix_queries === undefined) {
      unsupported.push('prefix_cache_hit_rate');
    } else {
      const hits = counterDelta('prefix_hits');
      const queries = counterDelta('prefix_queries');
      if (hits !== null && queries !== null && queries > 0) prefix = round(Math.min(1, hits / queries), 4);
    }

    const latency = (k: HistogramKey, figureName: string) => {
      const now = point.hists[k];
      if (!now) {
        unsupported.push(figureName);
        return { p50: null, p95: null };
      }
      const before = latencyBase?.hists[k];
      const d = before ? bucketDelta(now, before) : undefined;
      if (!d) return { p50: null, p95: null };
      const p = (q: number) => {
        const v = quantile(q, d);
        return v === null ? null : round(v, 4);
      };
      return { p50: p(0.5), p95: p(0.95) };
    };

    const preemptionSamples = first(m, VLLM_NAMES.preemptions);
    if (!preemptionSamples) unsupported.push('preemptions_total');
    const successSamples = first(m, VLLM_NAMES.success);
    let finished: Record<string, number> | null = null;
    if (!successSamples) unsupported.push('finished_total');
    else {
      finished = {};
      for (const s of successSamples) {
        const reason = sanitizeLabel(s.labels.finished_reason ?? 'unknown');
        finished[reason] = (finished[reason] ?? 0) + s.value;
      }
    }

    const figures: VllmFigures = {
      running,
      waiting,
      kv_usage: kv,
      prefix_cache_hit_rate: prefix,
      prompt_tokens_per_s: rate('prompt_tokens', 'prompt_tokens_per_s'),
      generation_tokens_per_s: rate('generation_tokens', 'generation_tokens_per_s'),
      ttft_s: latency('ttft', 'ttft_s'),
      inter_token_s: latency('inter_token', 'inter_token_s'),
      e2e_s: latency('e2e', 'e2e_s'),
      preemptions_total: preemptionSamples ? sum(preemptionSamples) : null,
      finished_total: finished,
      rate_window_s: rateBase ? round((at - rateBase.at) / 1000, 1) : null,
      latency_window_s: latencyBase ? round((at - latencyBase.at) / 1000, 1) : null,
      generation_tokens_last_hour: this.lastHour(point, at),
      unsupported,
    };
    return figures;
  }

  private push(point: Point): void {
    const last = this.history[this.history.length - 1];
    if (last && wentBackwards(point, last)) {
      this.history = [];
      this.hourly = [];
      this.restarts++;
    }
    this.history.push(point);
    const oldest = point.at - LATENCY_WINDOW_MS - RATE_WINDOW_MS;
    while (this.history.length > 2 && this.history[1].at <= oldest) this.history.shift();
    if (this.history.length > 500) this.history.splice(0, this.history.length - 500);
  }

  /** The newest earlier point at least `windowMs` old, else the oldest one (null if none). */
  private base(at: number, windowMs: number): Point | null {
    let chosen: Point | null = null;
    for (let i = this.history.length - 2; i >= 0; i--) {
      chosen = this.history[i];
      if (at - chosen.at >= windowMs) break;
    }
    return chosen;
  }

  private lastHour(point: Point, at: number): number | null {
    const value = point.counters.generation_tokens;
    if (value === undefined) return null;
    const newest = this.hourly[this.hourly.length - 1];
    if (!newest || at - newest.at >= HOUR_STEP_MS) this.hourly.push({ at, value });
    while (this.hourly.length > 1 && at - this.hourly[0].at > HOUR_MS) this.hourly.shift();
    const oldest = this.hourly[0];
    return oldest.at === at ? null : value - oldest.value;
  }
}

function wentBackwards(now: Point, before: Point): boolean {
  for (const k of COUNTERS) {
    const a = now.counters[k];
    const b = before.counters[k];
    if (a !== undefined && b !== undefined && a < b) return true;
  }
  for (const k of HISTOGRAMS) {
    const a = now.hists[k];
    const b = before.hists[k];
    if (a && b && a.counts[a.counts.length - 1] < b.counts[b.counts.length - 1]) return true;
  }
  return false;
}

/** Label values reach a terminal: printable ASCII, bounded. */
export function sanitizeLabel(v: string): string {
  const clean = v.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
