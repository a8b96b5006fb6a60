// The whole App in a sized in-memory terminal, fed by stores holding fixed data: the layout at
// 80×24, the too-small notice and recovery, the help overlay, the y/n confirmation, and an
// invalid config shown rather than fatal, and the drain-first offer of r.
import { describe, expect, it } from 'vitest';
import type { ValueStore } from '../../src/system/store.js';
import type { EngineFeedState } from '../../src/tui/data/engineFeed.js';
import { helpRows } from '../../src/tui/keys/bindings.js';
import { waitFor } from '../helpers/gateway.js';
import { mountApp, sampleSources } from './appHarness.js';

const sources = sampleSources;
const mount = mountApp;

const TITLES = ['1 GPUs', '2 Host', '3 Services', '4 Gateway', '5 Budgets', '6 Requests'];

describe('App', () => {
  it('lays every panel out in 80×24, one line short of the terminal, nothing wider than 80', async () => {
    const { frame } = mount(80, 24, sources().s);
    const f = await frame('6 Requests');
    const lines = f.split('\n');
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    for (const t of TITLES) expect(f).toContain(t);
    expect(f).toMatch(/▸ vllm\s+running/); // narrow: the .service suffix and the active state go
  });

  it('shows a notice below 80×24 and recovers when the terminal grows', async () => {
    const { term, frame } = mount(60, 20, sources().s);
    await frame('terminal too small: 60×20, need 80×24');
    term.resize(120, 40);
    const f = await frame('6 Requests');
    expect(f.split('\n')).toHaveLength(39);
    expect(f).not.toContain('too small');
  });

  it('lists every key binding in the help overlay', async () => {
    const { keys, frame } = mount(120, 40, sources().s);
    await frame('6 Requests');
    keys.press('?');
    // the help scrolls: read it page by page to its end
    const top = await frame('Keys');
    keys.press('G');
    const help = top + (await frame('quit, from anywhere'));
    for (const r of helpRows()) expect(help).toContain(`${r.label}`);
    keys.press('\x1b');
    await frame('6 Requests');
  });

  it('asks before stopping and runs nothing on n', async () => {
    const { s, calls } = sources();
    const { keys, frame } = mount(120, 40, s);
    await frame('6 Requests');
    keys.press('x');
    await frame('stop vllm.service? y/n');
    keys.press('n');
    await frame('stop vllm.service: cancelled');
    expect(calls).toEqual([]);
    keys.press('j');
    await frame('▸ ollama.service');
    keys.press('r');
    await frame('restart ollama.service? y/n');
    keys.press('y');
    await frame('restart ollama.service: done');
    keys.press('s');
    await frame('start ollama.service: done');
    expect(calls).toEqual([
      ['ollama.service', 'restart'],
      ['ollama.service', 'start'],
    ]);
  });

  it('offers to drain first when restarting a service the gateway routes to, and runs drain, restart, undrain on d', async () => {
    const { s, calls } = sources();
    (s.engines as ValueStore<EngineFeedState>).set({
      engines: [{
        provider: 'vllm', engine: 'vllm', url: 'http://127.0.0.1:8000/metrics', up: true, error: null, warnings: [],
        // read after the restart: the flow need not wait for the next scrape
        scraped_at: new Date(Date.now() + 3600_000).toISOString(), scrape_age_s: 0, scrape_ms: 1, gpu_usd_per_hour: null, usd_per_1m_generated_tokens: null,
      }],
      routing: [{ name: 'vllm', state: 'active', in_flight: 0, consecutive_failures: 0, cooldown_s_left: null, saturated: null, engine: null }],
      notice: null,
      updatedAt: 1,
    });
    const { keys, frame } = mount(120, 40, s);
    await frame('6 Requests');
    keys.press('x');
    await frame('stop vllm.service? y/n');
    keys.press('d'); // not offered for stop: the question stays open
    keys.press('n');
    await frame('stop vllm.service: cancelled');
    keys.press('r');
    await frame('restart vllm.service? d drain vllm first · y/n');
    keys.press('d');
    await frame(/restart vllm\.service: done \(drained in [\d.]+ s, ready in [\d.]+ s\); vllm undrained/);
    expect(calls).toEqual([
      ['vllm', 'drain'],
      ['vllm.service', 'restart'],
      ['vllm', 'undrain'],
    ]);
  });

  it('opens with an invalid config and shows the error', async () => {
    const { frame } = mount(120, 40, sources({ configInvalid: true }).s);
    const f = await frame('config invalid');
    expect(f).toMatch(/config invalid: model-mappings\.yaml:\d+:\d+: YAML syntax error/);
    for (const t of TITLES) expect(f).toContain(t);
  });

  it('counts every key of one read: jj, 3j and two arrow sequences move as typed', async () => {
    const { s } = sources();
    (s.services as ValueStore<any>).set({
      ...s.services.getSnapshot(),
      services: ['a', 'b', 'c', 'd', 'e'].map((u) => ({ ...s.services.getSnapshot().services[0], unit: `${u}.service` })),
    });
    const { keys, frame } = mount(120, 40, s);
    await frame('▸ a.service');
    keys.press('jj');
    await frame('▸ c.service');
    keys.press('\x1b[B\x1b[B');
    await frame('▸ e.service');
    keys.press('gj');
    await frame('▸ b.service');
    keys.press('3j'); // 3 focuses Services (already), j moves one
    await frame('▸ c.service');
    keys.press('xy'); // the question x asks is answered by the y in the same read
    await frame('stop c.service: done');
  });

  it('closes a view on q and answers no on q, never quitting from there', async () => {
    const { s, calls } = sources();
    let quits = 0;
    s.actions.quit = () => quits++;
    const { keys, frame } = mount(120, 40, s);
    await frame('6 Requests');
    keys.press('?');
    await frame('Keys');
    keys.press('q');
    await frame('6 Requests');
    keys.press('x');
    await frame('stop vllm.service? y/n');
    keys.press('q');
    await frame('stop vllm.service: cancelled');
    keys.press('R');
    await frame('restart the gateway? clients see it gone for a moment y/n');
    keys.press('\x1b');
    await frame('gateway restart: cancelled');
    expect(quits).toBe(0);
    expect(calls).toEqual([]);
    keys.press('q');
    await waitFor(() => quits === 1, 'quit from the main screen');
  });

  it('opens the selected request on Enter with every field and the whole error', async () => {
    const { s } = sources();
    const longError = `upstream said: ${'quota exceeded for this organisation, '.repeat(6)}end of message`;
    const row = (id: number, over: Record<string, unknown> = {}) => ({
      id, request_id: `req-${id}`, timestamp: '2026-12-01T10:00:00.000Z', provider: 'vllm', logical_model: 'gpt-4', concrete_model: 'llama',
      capability: 'chat', endpoint: '/v1/chat/completions', stream: 0, prompt_tokens: 10, completion_tokens: 20, total_tokens: 30,
      cost_usd: 0.001, latency_ms: 400, ttft_ms: null, status: 'success', http_status: 200, error_type: null, error_message: null,
      cache_hit: 0, attempts: 1, ...over,
    });
    (s.usage as ValueStore<any>).set({
      rows: [row(3), row(2, { status: 'error', http_status: 429, error_type: 'rate_limit_exceeded', error_message: longError, attempts: 2 }), row(1)],
      dbState: 'open', notice: null, stats: null,
    });
    const { keys, frame } = mount(100, 30, s);
    await frame('6 Requests');
    keys.press('6j\r');
    const f = await frame('Request req-2');
    expect(f).toMatch(/status\s+error 429/);
    expect(f).toMatch(/attempts\s+2 \(1 fell back\)/);
    expect(f.replace(/\s+/g, ' ')).toContain(longError.replace(/\s+/g, ' '));
    keys.press('q');
    await frame('6 Requests');
  });

  it('keeps what matters at 80×24: the services header, the error type, the whole footer', async () => {
    const { s } = sources();
    (s.usage as ValueStore<any>).set({
      rows: [{
        id: 1, request_id: 'r1', timestamp: '2026-12-01T10:00:00.000Z', provider: 'vllm', logical_model: 'gpt-4', concrete_model: 'llama',
        capability: 'chat', endpoint: '/v1/chat/completions', stream: 0, prompt_tokens: null, completion_tokens: null, total_tokens: null,
        cost_usd: null, latency_ms: 12, ttft_ms: null, status: 'error', http_status: 429, error_type: 'rate_limit_exceeded',
        error_message: 'slow down', cache_hit: 0, attempts: 1,
      }],
      dbState: 'open', notice: null, stats: null,
    });
    const { frame } = mount(80, 24, s);
    const f = await frame('rate_limit_exceeded');
    const lines = f.split('\n');
    expect(lines.some((l) => /^\s+unit\s+state\s+pid\s+up\s+health\s+gpu/.test(l))).toBe(true);
    const footer = lines[lines.length - 1];
    expect(footer).toMatch(/^Tab\/1-6 focus .* \? help · q quit\s*$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
});
