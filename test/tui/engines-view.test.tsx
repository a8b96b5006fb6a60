// The engine's figures where the operator looks, drawn from chosen data: the Services columns
// (queue, KV %, tokens/s, p95 TTFT; `—` for what the engine lacks, never 0; an Ollama's loaded
// models; the unit's own columns kept and the new ones dropped first when narrow) and the
// engine section of a service's detail (figures, loaded models with VRAM share and countdown,
// $ per 1M generated tokens, routing state, the models that route to the provider).
import React from 'react';
import { describe, expect, it } from 'vitest';
import type { ServicesState, ServiceState } from '../../src/system/types.js';
import type { EngineStatus, VllmFigures } from '../../src/engines/types.js';
import type { ProviderRoutingView } from '../../src/engines/routing-view.js';
import type { EngineFeedState } from '../../src/tui/data/engineFeed.js';
import { ENGINE_COLUMNS, UNSUPPORTED, engineCells, planServiceColumns } from '../../src/tui/presentation/engineRow.js';
import { serviceEngineDetail } from '../../src/tui/presentation/engineDetail.js';
import { serviceDetail } from '../../src/tui/presentation/detail.js';

process.env.FORCE_COLOR = '0';
const { render } = await import('ink-testing-library');
const { ThemeProvider, makeTheme } = await import('../../src/tui/contexts/ThemeContext.js');
const { ServicesPanel } = await import('../../src/tui/panels/ServicesPanel.js');

function draw(node: React.ReactElement): string[] {
  const { lastFrame, unmount } = render(<ThemeProvider theme={makeTheme(false)}>{node}</ThemeProvider>);
  const out = lastFrame() ?? '';
  unmount();
  return out.split('\n');
}

const unit = (provider: string, over: Partial<ServiceState> = {}): ServiceState => ({
  provider, unit: `${provider}.service`, loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 4242,
  since: null, health: 'ok', healthDetail: null, gpuMemMiB: 40960, error: null, ...over,
});

const figures = (over: Partial<VllmFigures> = {}): VllmFigures => ({
  running: 3, waiting: 12, kv_usage: 0.871, prefix_cache_hit_rate: 0.42, prompt_tokens_per_s: 812.5, generation_tokens_per_s: 1450.2,
  ttft_s: { p50: 0.08, p95: 0.31 }, inter_token_s: { p50: 0.012, p95: 0.025 }, e2e_s: { p50: 1.5, p95: 4.2 }, preemptions_total: 2,
  finished_total: { stop: 1203, length: 17, abort: 2 }, rate_window_s: 10, latency_window_s: 60, generation_tokens_last_hour: 4_663_000,
  unsupported: [], ...over,
});

const status = (provider: string, over: Partial<EngineStatus>): EngineStatus => ({
  provider, engine: 'vllm', url: 'http://127.0.0.1:8000/metrics', up: true, error: null, warnings: [], scraped_at: '2026-12-01T10:00:00.000Z',
  scrape_age_s: 0.4, scrape_ms: 3.1, gpu_usd_per_hour: null, usd_per_1m_generated_tokens: null, ...over,
});

const routing = (name: string, over: Partial<ProviderRoutingView> = {}): ProviderRoutingView => ({
  name, state: 'active', in_flight: 2, consecutive_failures: 0, cooldown_s_left: null, saturated: false, engine: null, ...over,
});

const ollama = status('ollama', {
  engine: 'ollama', url: 'http://127.0.0.1:11434',
  ollama: {
    loaded: [
      { name: 'qwen2.5-coder:7b', size_bytes: 4e9, size_vram_bytes: 4e9, vram_share: 1, spill: 'none', expires_at: null, unload_in_s: 240.4, context_length: 4096 },
      { name: 'llama3:70b', size_bytes: 40e9, size_vram_bytes: 24.8e9, vram_share: 0.62, spill: 'partial', expires_at: null, unload_in_s: null, context_length: null },
    ],
    available: [{ name: 'qwen2.5-coder:7b', size_bytes: 4e9 }],
    available_total: 1,
    vram_bytes: 28.8e9,
  },
});

const feed = (engines: EngineStatus[], routes: ProviderRoutingView[] = []): EngineFeedState => ({ engines, routing: routes, notice: null, updatedAt: 1 });
const services = (...s: ServiceState[]): ServicesState => ({ systemdAvailable: true, notice: null, services: s });

function panel(state: ServicesState, engines: EngineFeedState, width: number): string[] {
  return draw(<ServicesPanel state={state} engines={engines} selected={0} busyUnit={null} width={width} height={6} focused={false} nowMs={0} />);
}

describe('Services columns', () => {
  it('keeps every column of the unit and adds engine columns only while the unit keeps its room', () => {
    for (let width = 40; width <= 140; width++) {
      const without = planServiceColumns(width, false);
      const withEngines = planServiceColumns(width, true);
      // the unit's own columns never change for the engine's
      expect(withEngines.stateW).toBe(without.stateW);
      expect(withEngines.unitW).toBeGreaterThanOrEqual(Math.min(without.unitW, 14));
      // dropped from the end first: whatever is shown is a prefix of the priority order
      expect(withEngines.engine).toEqual(ENGINE_COLUMNS.slice(0, withEngines.engine.length));
      const used = 2 + withEngines.unitW + withEngines.spare + withEngines.stateW + 7 + 6 + 6 + 6 + 5 + withEngines.engine.reduce((a, c) => a + c.width + 1, 0);
      expect(used).toBe(Math.max(width, used)); // never wider than the panel (the unit's minimum aside)
    }
    // an 80×24 terminal's Services panel (49 columns): none of them
    expect(planServiceColumns(49, true).engine).toEqual([]);
    expect(planServiceColumns(113, true).engine.map((c) => c.id)).toEqual(['queue', 'kv', 'tps', 'ttft']);
    // the unit takes what its longest name needs; the rest goes to the engine's cells (an Ollama's models)
    expect(planServiceColumns(113, true, 20)).toMatchObject({ unitW: 20, spare: 16 });
  });

  it('shows running/waiting, KV %, generation tokens/s and p95 TTFT of a vLLM engine', () => {
    const lines = panel(services(unit('vllm')), feed([status('vllm', { vllm: figures() })], [routing('vllm')]), 113);
    expect(lines[0]).toMatch(/state\s+pid\s+up\s+health\s+gpu\s+run\/wait\s+kv\s+tok\/s\s+ttft95/);
    expect(lines[1]).toMatch(/vllm\.service\s+active\/running\s+4242\s+–\s+ok\s+40\.0G\s+3\/12\s+87%\s+1450\s+310ms$/);
  });

  it('shows — for a figure the engine does not export and – for one without a value yet, never 0', () => {
    const old = figures({ kv_usage: null, ttft_s: { p50: null, p95: null }, generation_tokens_per_s: null, unsupported: ['kv_usage', 'ttft_s'] });
    const lines = panel(services(unit('vllm')), feed([status('vllm', { vllm: old })]), 113);
    expect(lines[1]).toMatch(new RegExp(`3/12\\s+${UNSUPPORTED}\\s+–\\s+${UNSUPPORTED}$`));
    expect(lines[1]).not.toMatch(/\s0%|\s0\s*$/);
  });

  it('shows an Ollama service’s loaded models, and how much of a spilled one is in VRAM', () => {
    const lines = panel(services(unit('vllm'), unit('ollama')), feed([status('vllm', { vllm: figures() }), ollama]), 113);
    expect(lines[2]).toMatch(/ollama\.service\s+active\/running.*40\.0G\s+qwen2\.5-coder:7b, llama3:70b 62% VRAM/);
  });

  it('says the engine is down, and leaves a provider without an engine blank', () => {
    const down = status('vllm', { up: false, error: 'connection refused' });
    const lines = panel(services(unit('vllm'), unit('openai')), feed([down]), 113);
    expect(lines[1]).toMatch(/40\.0G\s+engine down: connection refused/);
    expect(lines[2]).toMatch(/openai\.service\s+active\/running\s+4242\s+–\s+ok\s+40\.0G\s*$/);
  });

  it('at 80×24 (a 49-column panel) keeps the unit’s columns and drops the engine’s', () => {
    const lines = panel(services(unit('vllm')), feed([status('vllm', { vllm: figures() })]), 49);
    expect(lines[1]).toMatch(/^\s+unit\s+state\s+pid\s+up\s+health\s+gpu$/);
    expect(lines[2]).toMatch(/vllm\s+running\s+4242\s+–\s+ok\s+40\.0G$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(49);
  });

  it('marks nothing when the gateway has not answered (figures unknown, columns left out)', () => {
    const lines = panel(services(unit('vllm')), { engines: [], routing: [], notice: 'engines: no gateway of ours is running', updatedAt: null }, 113);
    expect(lines[0]).not.toContain('kv');
    expect(engineCells(undefined, undefined, false)).toEqual({ kind: 'unknown' });
  });
});

describe('service detail: the engine section', () => {
  const config = {
    models: {
      chat: { name: 'chat', targets: [{ provider: 'vllm', model: 'm' }, { provider: 'ollama', model: 'm' }], fallbacks: [] },
      code: { name: 'code', targets: [{ provider: 'vllm', model: 'c' }], fallbacks: [] },
    },
  } as never;
  const text = (lines: { text: string }[]) => lines.map((l) => l.text).join('\n');
  const seen = { services: [], gpus: [], processes: [], owners: new Map<number, string>() };

  it('joins the unit, the engine’s figures, $ per 1M generated tokens, routing and the gateway’s traffic', () => {
    const engine = status('vllm', { vllm: figures(), gpu_usd_per_hour: 2.5, usd_per_1m_generated_tokens: 0.5361 });
    const s = unit('vllm');
    const d = serviceEngineDetail(serviceDetail(s, seen, null), s, feed([engine], [routing('vllm', { state: 'draining', in_flight: 2 })]), config);
    const all = text(d.lines);
    expect(all).toContain('MainPID         4242'); // the unit's own lines come first
    expect(all).toMatch(/queue\s+3 running · 12 waiting/);
    expect(all).toMatch(/KV cache\s+87\.1%/);
    expect(all).toMatch(/prefix cache\s+42% hit/);
    expect(all).toMatch(/tokens\/s\s+813 prompt · 1450 generated \(over 10 s\)/);
    expect(all).toMatch(/TTFT\s+p50 80ms · p95 310ms \(over 60 s\)/);
    expect(all).toMatch(/inter-token\s+p50 12ms · p95 25ms/);
    expect(all).toMatch(/end-to-end\s+p50 1\.5s · p95 4\.2s/);
    expect(all).toMatch(/preemptions\s+2/);
    expect(all).toMatch(/finished\s+stop 1203 · length 17 · abort 2/);
    expect(all).toMatch(/\$\/1M generated\s+\$0\.54 · GPU \$2\.50\/h · 4\.7M tokens in the last hour/);
    expect(all).toMatch(/state\s+draining \(2 in flight\)/);
    expect(all).toMatch(/routes\s+chat \(target 1 of 2\), code \(target 1 of 1\)/);
    expect(all).toMatch(/only target of\s+code/);
  });

  it('names what the engine lacks as unsupported instead of a 0', () => {
    const engine = status('vllm', { vllm: figures({ preemptions_total: null, prefix_cache_hit_rate: null, unsupported: ['preemptions_total', 'prefix_cache_hit_rate'] }) });
    const s = unit('vllm');
    const all = text(serviceEngineDetail(serviceDetail(s, seen, null), s, feed([engine]), config).lines);
    expect(all).toMatch(/preemptions\s+— unsupported by this engine/);
    expect(all).toMatch(/prefix cache\s+— unsupported by this engine/);
  });

  it('lists an Ollama’s loaded models with their share in VRAM and the unload countdown', () => {
    const s = unit('ollama');
    const all = text(serviceEngineDetail(serviceDetail(s, seen, null), s, feed([ollama]), config).lines);
    expect(all).toContain('Loaded models (2) · 26.8G in VRAM');
    expect(all).toMatch(/qwen2\.5-coder:7b\s+3\.7G · 100% in VRAM · unloads in 4m00s · ctx 4096/);
    expect(all).toMatch(/llama3:70b\s+37\.3G · 62% in VRAM \(part in CPU memory\) · never unloads/);
  });

  it('says why there are no figures when the gateway does not answer', () => {
    const s = unit('vllm');
    const none: EngineFeedState = { engines: [], routing: [], notice: 'engines: HTTP 401 invalid api key', updatedAt: null };
    const all = text(serviceEngineDetail(serviceDetail(s, seen, null), s, none, config).lines);
    expect(all).toContain('unknown: engines: HTTP 401 invalid api key');
  });
});
