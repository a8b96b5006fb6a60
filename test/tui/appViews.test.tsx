// The App's lists, filter and details with chosen data, in an in-memory terminal: `/` filters
// each list literally (regex and LIKE characters are only characters), a filter that matches
// nothing says so, Enter on an empty list, a usage row whose fields are all NULL, a budget of
// $0.0001 with its spend over the window, a failed service action kept until dismissed and read
// whole, and the routing table that still runs under the errors of an invalid edit.
import { describe, expect, it } from 'vitest';
import type { ValueStore } from '../../src/system/store.js';
import { mountApp, sampleSources, usageRow } from './appHarness.js';

const set = (store: unknown, value: unknown) => (store as ValueStore<unknown>).set(value);

describe('App views', () => {
  it('filters Services by typed text, says how many match, and Esc clears it', async () => {
    const { s } = sampleSources();
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('3/oll');
    await frame('/oll█');
    let f = await frame('filter: oll · 1 of 2');
    expect(f).toContain('ollama.service');
    expect(f).not.toContain('vllm.service');
    keys.press('\r');
    f = await frame(/Tab\/1-6 focus/);
    expect(f).toContain('filter: oll · 1 of 2');
    keys.press('\x1b');
    f = await frame('vllm.service');
    expect(f).not.toContain('filter:');
  });

  it('takes regex and LIKE characters literally, and a filter matching nothing says 0 of n', async () => {
    const { s, filtered } = sampleSources();
    set(s.usage, { rows: [usageRow(2, { logical_model: 'a.*b' }), usageRow(1, { logical_model: 'axxb' })], dbState: 'open', notice: null, stats: null });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('6/a.*b');
    const f = await frame('filter: a.*b · 1 of 2');
    expect(f).toContain('a.*b');
    expect(f).not.toContain('axxb');
    keys.press('\x7f\x7f\x7f%_');
    await frame('filter: a%_ · 0 of 2');
    expect(filtered.at(-1)).toBe('a%_');
    keys.press('\x1b');
    await frame('axxb');
    expect(filtered.at(-1)).toBe('');
  });

  it('shows what the usage log search found, with its count of the whole log', async () => {
    const { s } = sampleSources();
    const found = [usageRow(9, { status: 'error', http_status: 429, error_type: 'rate_limit_exceeded' })];
    set(s.usage, { rows: [usageRow(10)], dbState: 'open', notice: null, stats: null, filter: { text: '429', rows: found, matches: 12, capped: false, total: 3400, error: null } });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('6/429\r');
    const f = await frame('filter: 429 · 12 of 3,400');
    expect(f).toContain('rate_limit_exceeded');
  });

  it('says so on Enter in an empty list', async () => {
    const { s } = sampleSources();
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('6\r');
    await frame('nothing selected: the list is empty');
  });

  it('opens a usage row whose fields are all NULL, each shown as –', async () => {
    const { s } = sampleSources();
    const nulls = Object.fromEntries(Object.keys(usageRow(1)).map((k) => [k, null]));
    set(s.usage, { rows: [{ ...nulls, id: 1 }], dbState: 'open', notice: null, stats: null });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('6\r');
    const f = await frame('Request –');
    expect(f).toMatch(/request id\s+–/);
    expect(f).toMatch(/tokens\/s\s+–/);
    expect(f).not.toMatch(/null|NaN|undefined/);
  });

  it('opens a budget of $0.0001 with its spend over the window', async () => {
    const { s, series } = sampleSources();
    set(s.budgets, {
      rows: [{ scope: 'model', target: 'gpt-4', max_budget_usd: 0.0001, budget_window: '1h', window_seconds: 3600, action: 'block',
        spend_usd: 0.00005, remaining_usd: 0.00005, exceeded: false, lastHourSpendUsd: 0.00005 }],
      source: 'gateway', notice: null,
    });
    const { keys, frame } = mountApp(120, 40, s);
    const panel = await frame('$0.000050/$0.000100');
    expect(panel).toContain('50%');
    keys.press('5\r');
    const f = await frame('Spend over the 1h window');
    expect(f).toMatch(/spend\s+\$0\.000050 of \$0\.000100 \(50%\)/);
    await frame(/[▁▂▃▄▅▆▇█]{10}/);
    expect(series).toEqual([['model', 'gpt-4']]);
  });

  it('keeps a failed action on the status line whatever is selected, and reads it whole on Enter', async () => {
    const { s } = sampleSources({ failAction: ['Job for vllm.service failed because the control process exited with error code.', 'See "journalctl -xeu vllm.service" for details.'] });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('s');
    await frame(/start vllm\.service: Job for vllm\.service failed.*Enter reads all · Esc dismisses/);
    keys.press('j');
    await frame(/▸ ollama\.service[^]*Enter reads all/);
    keys.press('\r');
    const f = await frame('start vllm.service failed');
    expect(f).toContain('See "journalctl -xeu vllm.service" for details.');
    keys.press('q');
    const back = await frame(/Tab\/1-6 focus/);
    expect(back).not.toContain('Enter reads all');
  });

  it('shows the last good routing table, with mode and fallbacks, under the errors of an invalid edit', async () => {
    const { s, home } = sampleSources();
    const good = s.config.getSnapshot();
    const longMessage = `unknown provider "${'p'.repeat(150)}" (known: vllm, ollama) THE-USEFUL-END`;
    set(s.config, { ...good, config: undefined, lastGood: good.config, problems: [{ file: 'model-mappings.yaml', path: 'models.gpt-4', message: longMessage, severity: 'error' }] });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('c');
    const f = await frame('What the gateway still runs');
    expect(f).toContain('THE-USEFUL-END');
    expect(f).toMatch(/gpt-4\s+chat\s+(ordered|balanced)/);
    expect(home).toBeTruthy();
  });

  it('Requests follow new rows until moved, and the title says which', async () => {
    const { s } = sampleSources();
    const rows = (n: number) => Array.from({ length: n }, (_, i) => usageRow(n - i, { logical_model: `model-${n - i}` }));
    set(s.usage, { rows: rows(3), dbState: 'open', notice: null, stats: null });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('following new rows');
    keys.press('6j');
    await frame('row 2/3 · paused · g follows');
    set(s.usage, { rows: rows(5), dbState: 'open', notice: null, stats: null });
    // two rows arrived on top: the selection stays on model-2, now the fourth row
    await frame('row 4/5 · paused · g follows');
    keys.press('g');
    await frame('following new rows');
  });

  it('opens a service with its unit, the last action whole, and the traffic the gateway sent it', async () => {
    const { s, series } = sampleSources({ failAction: ['Job for vllm.service failed.', 'See the journal for details.'] });
    const { keys, frame } = mountApp(120, 40, s);
    await frame('6 Requests');
    keys.press('s');
    await frame('Enter reads all');
    keys.press('\x1b'); // dismissed: Enter opens the selected row again
    await frame(/Tab\/1-6 focus/);
    keys.press('\r');
    const f = await frame(/requests: \d+ in all/);
    expect(f).toMatch(/MainPID\s+100/);
    expect(f).toMatch(/Last action: start at \d\d:\d\d:\d\d — failed/);
    expect(f).toContain('See the journal for details.');
    expect(f).toMatch(/Traffic the gateway sent to vllm over the last 60 min/);
    expect(f).toMatch(/[▁▂▃▄▅▆▇█]{20}/);
    expect(series).toEqual([['provider', 'vllm']]);
  });

  it('opens a request with its route and the service as the console saw it', async () => {
    const { s } = sampleSources();
    set(s.usage, { rows: [usageRow(1, { concrete_model: 'gpt-4o', provider: 'openai', stream: 1, latency_ms: 1100, ttft_ms: 100, completion_tokens: 50 })], dbState: 'open', notice: null, stats: null });
    const { keys, frame } = mountApp(120, 60, s);
    await frame('6 Requests');
    keys.press('6\r');
    const f = await frame('When the console opened this');
    expect(f).toMatch(/tokens\/s\s+50\.0 \(after the first token\)/); // 50 tokens in 1100 - 100 ms
    expect(f).toMatch(/routing ordered/);
    expect(f).toMatch(/2\. openai\/gpt-4o\s+← answered/);
    expect(f).toContain('no service configured for openai');
  });
});
