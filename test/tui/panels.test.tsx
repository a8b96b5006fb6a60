// Panels as pure functions of their props, rendered with ink-testing-library: `–` for what is
// unknown, colours by threshold (and none under NO_COLOR), widths that fit.
import React from 'react';
import { describe, expect, it } from 'vitest';
import type { GpuState, ServicesState } from '../../src/system/types.js';
import type { StoredUsageRow } from '../../src/usage/schema.js';
import type { BudgetRow } from '../../src/tui/presentation/budgetView.js';
import type { GatewayChildState } from '../../src/tui/gatewayChild/state.js';

// chalk decides its colour level when first imported: force colour before Ink loads.
process.env.FORCE_COLOR = '1';
const { render } = await import('ink-testing-library');
const { ThemeProvider, makeTheme } = await import('../../src/tui/contexts/ThemeContext.js');
const { GpuPanel } = await import('../../src/tui/panels/GpuPanel.js');
const { BudgetsPanel } = await import('../../src/tui/panels/BudgetsPanel.js');
const { ServicesPanel } = await import('../../src/tui/panels/ServicesPanel.js');
const { INITIAL_ENGINES } = await import('../../src/tui/data/engineFeed.js');
const { GatewayPanel } = await import('../../src/tui/panels/GatewayPanel.js');
const { RequestsPanel } = await import('../../src/tui/panels/RequestsPanel.js');
const { budgetDetail } = await import('../../src/tui/presentation/detail.js');

const RED = /\x1b\[31m/;
const YELLOW = /\x1b\[33m/;
const ANY_COLOR = /\x1b\[(3[0-7]|9[0-7]|38;[0-9;]+)m/;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

function draw(node: React.ReactElement, color = true): string {
  const { lastFrame, unmount } = render(<ThemeProvider theme={makeTheme(color)}>{node}</ThemeProvider>);
  const out = lastFrame() ?? '';
  unmount();
  return out;
}

const gpu = (over: Partial<GpuState['gpus'][number]>): GpuState['gpus'][number] => ({
  uuid: 'GPU-0',
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  utilPct: 50,
  memUsedMiB: 40960,
  memTotalMiB: 81920,
  tempC: 60,
  powerW: 300,
  powerLimitW: 700,
  utilHistory: [10, 50, 90],
  memHistory: [],
  ...over,
});

describe('GpuPanel', () => {
  it('shows – for every reading the driver does not report, never 0', () => {
    const state: GpuState = {
      available: true,
      notice: null,
      gpus: [gpu({}), gpu({ uuid: 'GPU-1', index: 1, utilPct: null, tempC: null, powerW: null, powerLimitW: null })],
      processes: [],
      updatedAt: 1,
    };
    const lines = strip(draw(<GpuPanel state={state} owners={new Map()} width={80} height={5} focused={false} />)).split('\n');
    expect(lines[1]).toMatch(/^0 H100 80GB HBM3\s+50% .*40\.0\/80\.0G 60°C\s+300\/700W$/);
    expect(lines[2]).toMatch(/^1 H100 80GB HBM3\s+–\s+40\.0\/80\.0G\s+–\s+–$/);
    expect(lines[2]).not.toMatch(/\b0%/);
  });

  it('charges a compute process to its unit', () => {
    const state: GpuState = {
      available: true,
      notice: null,
      gpus: [gpu({})],
      processes: [{ gpuUuid: 'GPU-0', pid: 4242, name: '/usr/bin/python3', usedMemMiB: 38912 }],
      updatedAt: 1,
    };
    const out = strip(draw(<GpuPanel state={state} owners={new Map([[4242, 'vllm.service']])} width={80} height={5} focused={false} />));
    expect(out).toMatch(/4242\s+38\.0G python3 → vllm\.service/);
  });

  it('is one line when there is no nvidia-smi', () => {
    const state: GpuState = { available: false, notice: 'nvidia-smi not found: no GPU panel', gpus: [], processes: [], updatedAt: null };
    const lines = strip(draw(<GpuPanel state={state} owners={new Map()} width={60} height={5} focused={false} />))
      .split('\n')
      .filter((l) => l.trim());
    expect(lines).toEqual([expect.stringContaining('1 GPUs'), 'nvidia-smi not found: no GPU panel']);
  });
});

const budgetRow = (target: string, spend: number, max: number, lastHour: number | null = 0): BudgetRow => ({
  scope: 'model',
  target,
  max_budget_usd: max,
  budget_window: '1d',
  window_seconds: 86400,
  action: 'warn',
  spend_usd: spend,
  remaining_usd: Math.max(0, max - spend),
  exceeded: spend >= max,
  lastHourSpendUsd: lastHour,
});

describe('BudgetsPanel', () => {
  const rows = [budgetRow('over', 12, 10), budgetRow('hot', 8.5, 10, 3), budgetRow('calm', 1, 10)];
  const panel = (width: number, color = true) =>
    draw(<BudgetsPanel rows={rows} source="gateway" notice={null} offset={0} width={width} height={4} focused={false} />, color);

  it('is red with EXCEEDED from 100 %, yellow from 80 %, green below', () => {
    const lines = panel(120).split('\n');
    const over = lines.find((l) => l.includes('model over'))!;
    const hot = lines.find((l) => l.includes('model hot'))!;
    const calm = lines.find((l) => l.includes('model calm'))!;
    expect(over).toMatch(RED);
    expect(strip(over)).toMatch(/\$12\.00\/\$10\.00 █+ 120%\s+1d warn\s+EXCEEDED/);
    expect(over).toMatch(/\x1b\[31m[^\x1b]*EXCEEDED/);
    expect(hot).toMatch(YELLOW);
    expect(hot).not.toMatch(RED);
    expect(strip(hot)).toMatch(/85%.*exceeds in ~30m/); // 1.5 left at 3 per hour, and 3/h × 1d > 10
    expect(calm).not.toMatch(RED);
    expect(calm).not.toMatch(YELLOW);
  });

  it('draws no colour under NO_COLOR, and still says EXCEEDED', () => {
    const out = panel(120, false);
    expect(out).not.toMatch(ANY_COLOR);
    expect(out).toContain('EXCEEDED');
  });

  it('fits 80 columns', () => {
    for (const l of strip(panel(80)).split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(strip(panel(80))).toMatch(/model hot\s+\$8\.50\/\$10\.00 .* 85%\s+1d warn\s+over ~30m/);
  });
});

describe('BudgetsPanel and budget detail in shared mode', () => {
  const shared = {
    ...budgetRow('team', 0.9, 1),
    shared: {
      local_spend_usd: 0.3,
      reserved_usd: 0.05,
      read_at: '2026-12-01T23:00:00.000Z',
      gateways: [
        { gateway_id: 'box-a', spend_usd: 0.3, reserved_usd: 0.05 },
        { gateway_id: 'box-b', spend_usd: 0.4, reserved_usd: 0 },
        { gateway_id: 'box-c', spend_usd: 0.2, reserved_usd: 0 },
      ],
    },
  };

  it('says the budgets are shared and by how many gateways', () => {
    const out = strip(draw(<BudgetsPanel rows={[shared]} source="gateway" notice={null} sharedGateways={3} offset={0} width={120} height={3} focused={false} />));
    expect(out).toContain('shared · 3 gateways');
    // a gateway alone says nothing of the kind
    expect(strip(draw(<BudgetsPanel rows={[budgetRow('solo', 1, 10)]} source="gateway" notice={null} sharedGateways={null} offset={0} width={120} height={3} focused={false} />))).not.toContain('shared');
  });

  it('splits a budget per gateway in its detail', () => {
    const text = budgetDetail(shared).lines.map((l) => l.text).join('\n');
    expect(text).toMatch(/Per gateway \(shared · 3/);
    expect(text).toMatch(/box-a\s+\$0\.30\d* spent, \$0\.05\d* reserved/);
    expect(text).toMatch(/box-b\s+\$0\.40\d* spent/);
    expect(text).toMatch(/this gateway\s+\$0\.30\d* \(live\)/);
    expect(budgetDetail(budgetRow('solo', 1, 10)).lines.some((l) => l.text.includes('Per gateway'))).toBe(false);
  });
});

describe('ServicesPanel', () => {
  const state: ServicesState = {
    systemdAvailable: true,
    notice: null,
    services: [
      {
        provider: 'vllm', unit: 'vllm.service', loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 4242,
        since: new Date(Date.now() - 3725_000).toISOString(), health: 'ok', healthDetail: null, gpuMemMiB: 38912, error: null,
      },
      {
        provider: 'tgi', unit: 'tgi.service', loadState: 'not-found', activeState: 'inactive', subState: 'dead', mainPid: null,
        since: null, health: 'none', healthDetail: null, gpuMemMiB: null, error: 'Unit tgi.service not found.',
      },
    ],
  };
  it('shows state, pid, uptime, health and GPU memory, – where there is none, and the error of the selected unit', () => {
    const out = strip(draw(<ServicesPanel state={state} engines={INITIAL_ENGINES} selected={1} busyUnit={null} width={80} height={5} focused nowMs={Date.now()} />));
    expect(out).toMatch(/ vllm\.service\s+active\/running\s+4242\s+1h02m\s+ok\s+38\.0G/);
    expect(out).toMatch(/▸ tgi\.service\s+not-found\s+–\s+–\s+–\s+–/);
    expect(out).toContain('Unit tgi.service not found.');
  });
});

const gwState = (over: Partial<GatewayChildState>): GatewayChildState => ({
  mode: 'running', host: '127.0.0.1', port: 4000, pid: 999, startedAt: Date.now() - 65_000, restarts: 0,
  nextRestartAt: null, lastExit: null, message: null, health: 'ok', version: '0.1.0', ...over,
});

describe('GatewayPanel', () => {
  const panel = (s: GatewayChildState, stats: Parameters<typeof GatewayPanel>[0]['stats'] = null) =>
    strip(draw(<GatewayPanel state={s} stats={stats} rateWindowS={10} statsWindowS={60} width={40} height={6} focused={false} nowMs={Date.now()} />));

  it('shows pid, port, uptime, restarts, rate, error rate and latency', () => {
    const out = panel(gwState({ restarts: 2 }), { requests: 40, errors: 2, rps: 2.5, p50LatencyMs: 120, p95LatencyMs: 850 });
    expect(out).toMatch(/● running\s+restarts 2/);
    expect(out).toMatch(/pid 999\s+:4000\s+up 1m05s/);
    expect(out).toMatch(/2\.50 req\/s\s+err 5\.0%/);
    expect(out).toMatch(/p50 120ms\s+p95 850ms/);
  });

  it('shows the shared Redis: connected with the gateways sharing it, or degraded with the reason under the headline', () => {
    const up = panel(gwState({ shared: { state: 'up', reason: null, gateways: 3 } })).split('\n');
    expect(up.find((l) => l.includes('redis'))).toMatch(/redis connected · 3 gateways/);
    const down = panel(gwState({ health: 'degraded', shared: { state: 'down', reason: 'Redis at redis://10.0.0.5:6379 refused the connection', gateways: 3 } })).split('\n');
    expect(down.findIndex((l) => l.includes('redis degraded: Redis at redis://10.0'))).toBe(down.findIndex((l) => l.includes('running')) + 1);
    expect(panel(gwState({}))).not.toContain('redis');
  });

  it('shows the backoff countdown and why the child died', () => {
    const out = panel(gwState({ mode: 'restarting', pid: null, nextRestartAt: Date.now() + 2500, lastExit: 'exit 1: config_invalid: boom' }));
    expect(out).toMatch(/↻ restarting in 3s/);
    expect(out).toContain('exit 1: config_invalid: boom');
    expect(out).toMatch(/– req\/s\s+err –/);
  });

  it('names a port held by another program', () => {
    const out = panel(gwState({ mode: 'port-taken', pid: null, message: 'GET /health answered HTTP 404, not a ptui gateway' }));
    const lines = out.split('\n');
    expect(lines[1]).toBe('✗ port 4000 held by another program');
    expect(lines.slice(2, 4).join(' ')).toBe('GET /health answered HTTP 404, not a ptui gateway');
  });
});

describe('RequestsPanel', () => {
  const row = (id: number, over: Partial<StoredUsageRow> = {}): StoredUsageRow => ({
    id, request_id: `r${id}`, timestamp: '2026-11-27T07:00:00.000Z', provider: 'vllm', logical_model: 'gpt-4',
    concrete_model: 'llama', capability: 'chat', endpoint: 'chat', stream: 0, prompt_tokens: 12, completion_tokens: 30,
    total_tokens: 42, cost_usd: 0.0004, latency_ms: 234.4, ttft_ms: null, status: 'success', http_status: 200,
    error_type: null, error_message: null, cache_hit: 0, attempts: 1, ...over,
  });
  it('shows the newest rows with status, latency, tokens and cost; errors with their type', () => {
    const rows = [
      row(2, { status: 'error', http_status: 502, provider: null, prompt_tokens: null, completion_tokens: null, cost_usd: null, error_type: 'upstream_error' }),
      row(1),
    ];
    const out = strip(draw(<RequestsPanel rows={rows} offset={0} notice={null} width={120} height={5} focused={false} />));
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^time\s+model\s+provider\s+status\s+latency\s+tok in\/out\s+cost note/);
    expect(lines[2]).toMatch(/gpt-4\s+–\s+err 502\s+234ms\s+–\s+–\s+upstream_error/);
    expect(lines[3]).toMatch(/gpt-4\s+vllm\s+ok 200\s+234ms\s+12\/30\s+\$0\.0004/);
  });
});
