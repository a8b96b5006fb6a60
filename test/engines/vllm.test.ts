import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/engines/prom-text.js';
import { VllmReader } from '../../src/engines/vllm.js';
import { SimEngine } from '../../src/sim/engine.js';

function serve(engine: SimEngine, n: number, prompt = 'the same prompt text', generated = 10): void {
  for (let i = 0; i < n; i++) {
    const r = engine.begin(prompt, 4);
    r.firstToken();
    for (let t = 1; t < generated; t++) r.token();
    r.finish('stop', generated);
  }
}

const read = (reader: VllmReader, engine: SimEngine, atMs: number) => reader.read(parsePrometheusText(engine.metricsText()), atMs);

describe('VllmReader', () => {
  it('reads gauges at once and rates, hit rate and quantiles from the second scrape', () => {
    const engine = new SimEngine('vllm', ['m'], { waiting: 3, kvUsage: 0.42 });
    const reader = new VllmReader();
    const first = read(reader, engine, 0);
    expect(first).toMatchObject({ running: 0, waiting: 3, kv_usage: 0.42, generation_tokens_per_s: null, unsupported: [] });
    expect(first.ttft_s).toEqual({ p50: null, p95: null });

    serve(engine, 20);
    const second = read(reader, engine, 2000);
    expect(second.generation_tokens_per_s).toBe(100); // 200 tokens in 2 s
    expect(second.prompt_tokens_per_s).toBe(40);
    // the first of the 20 identical prompts missed, the other 19 hit
    expect(second.prefix_cache_hit_rate).toBe(0.95);
    expect(second.ttft_s.p95).not.toBeNull();
    expect(second.ttft_s.p95!).toBeLessThanOrEqual(0.01);
    expect(second.finished_total).toEqual({ stop: 20, length: 0, abort: 0 });
    expect(second.preemptions_total).toBe(0);
    expect(second.rate_window_s).toBe(2);
  });

  it('reads the older names (gpu_cache_usage_perc, gpu_prefix_cache_*, time_per_output_token)', () => {
    const engine = new SimEngine('vllm', ['m'], { kvUsage: 0.9, legacyNames: true });
    const reader = new VllmReader();
    read(reader, engine, 0);
    serve(engine, 5);
    const f = read(reader, engine, 1000);
    expect(f.kv_usage).toBe(0.9);
    expect(f.prefix_cache_hit_rate).toBe(0.8);
    expect(f.inter_token_s.p50).not.toBeNull();
    expect(f.unsupported).toEqual([]);
  });

  it('calls a name the server lacks unsupported, never 0', () => {
    const reader = new VllmReader();
    const f = reader.read(parsePrometheusText('vllm:num_requests_running{model_name="m"} 2\nprocess_open_fds 7\n'), 0);
    expect(f.running).toBe(2);
    expect(f.waiting).toBeNull();
    expect(f.kv_usage).toBeNull();
    expect(f.unsupported).toEqual(
      expect.arrayContaining(['waiting', 'kv_usage', 'prefix_cache_hit_rate', 'generation_tokens_per_s', 'ttft_s', 'e2e_s', 'preemptions_total', 'finished_total']),
    );
  });

  it('treats counters going backwards as a restart: no negative rate, rates start over', () => {
    const engine = new SimEngine('vllm', ['m']);
    const reader = new VllmReader();
    serve(engine, 50);
    read(reader, engine, 0);
    engine.restart();
    serve(engine, 1);
    const after = read(reader, engine, 1000);
    expect(after.generation_tokens_per_s).toBeNull();
    expect(after.ttft_s.p50).toBeNull();
    expect(reader.restarts).toBe(1);
    serve(engine, 2);
    const next = read(reader, engine, 2000);
    expect(next.generation_tokens_per_s).toBe(20);
  });

  it('rejects gauges out of range (a KV usage of 95 is not 95 %)', () => {
    const f = new VllmReader().read(parsePrometheusText('vllm:kv_cache_usage_perc 95\nvllm:num_requests_waiting -1\n'), 0);
    expect(f.kv_usage).toBeNull();
    expect(f.waiting).toBeNull();
    expect(f.unsupported).not.toContain('kv_usage');
  });

  it('takes the fullest KV cache and the summed queues of a data-parallel server', () => {
    const text = [
      'vllm:num_requests_waiting{engine="0"} 2',
      'vllm:num_requests_waiting{engine="1"} 5',
      'vllm:kv_cache_usage_perc{engine="0"} 0.2',
      'vllm:kv_cache_usage_perc{engine="1"} 0.7',
    ].join('\n');
    const f = new VllmReader().read(parsePrometheusText(text), 0);
    expect(f.waiting).toBe(7);
    expect(f.kv_usage).toBe(0.7);
  });
});
