// The whole App in a sized in-memory terminal, fed by stores holding fixed data, for the App's
// component tests: an Ink stdout that keeps every frame, a stdin that delivers key reads, and
// sources whose actions record what they were asked.
import React from 'react';
import { EventEmitter } from 'node:events';
import { afterEach } from 'vitest';
import { render } from 'ink';
import { App } from '../../src/tui/App.js';
import { ThemeProvider, makeTheme } from '../../src/tui/contexts/ThemeContext.js';
import { SourcesProvider, type DashboardSources } from '../../src/tui/contexts/SourcesContext.js';
import { ValueStore } from '../../src/system/store.js';
import { FrameClock } from '../../src/tui/data/frameClock.js';
import { FileFollower } from '../../src/tui/data/fileFollower.js';
import { gatewayLogLine } from '../../src/tui/presentation/logLines.js';
import { resolvePaths } from '../../src/config/paths.js';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceVerb } from '../../src/system/types.js';
import type { StoredUsageRow } from '../../src/usage/schema.js';
import type { EngineFeedState } from '../../src/tui/data/engineFeed.js';
import { makeHome } from '../helpers/config.js';
import { waitFor } from '../helpers/gateway.js';

export class Terminal extends EventEmitter {
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
  resize(columns: number, rows: number) {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
  last = () => this.frames[this.frames.length - 1] ?? '';
}

export class Keyboard extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  press = (data: string) => {
    this.data = data;
    this.emit('readable');
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

const unmounts: Array<() => void> = [];
afterEach(() => unmounts.splice(0).forEach((u) => u()));

/** A complete usage row as the feed holds it. */
export function usageRow(id: number, over: Partial<StoredUsageRow> = {}): StoredUsageRow {
  return {
    id, request_id: `req-${id}`, timestamp: new Date(Date.UTC(2026, 11, 1, 10, 0, id)).toISOString(), provider: 'vllm', logical_model: 'gpt-4',
    concrete_model: 'llama', capability: 'chat', endpoint: '/v1/chat/completions', stream: 0, prompt_tokens: 10, completion_tokens: 20,
    total_tokens: 30, cost_usd: 0.001, latency_ms: 400, ttft_ms: null, status: 'success', http_status: 200, error_type: null,
    error_message: null, cache_hit: 0, attempts: 1, usage_source: 'upstream', key_alias: null, ...over,
  };
}

export function sampleSources(opts: { configInvalid?: boolean; failAction?: string[] } = {}) {
  const home = makeHome(opts.configInvalid ? { mappings: 'models: [\n' } : {});
  unmounts.push(home.cleanup);
  const loaded = loadConfig({ home: home.home, env: {} });
  const calls: Array<[string, ServiceVerb | 'drain' | 'undrain']> = [];
  const providerView = (name: string) => ({
    name, state: 'active' as const, in_flight: 0, consecutive_failures: 0, cooldown_s_left: null, saturated: null, engine: null,
  });
  const filtered: string[] = [];
  const series: Array<[string, string]> = [];
  const s: DashboardSources = {
    gpu: new ValueStore({ available: false, notice: 'nvidia-smi not found: no GPU panel', gpus: [], processes: [], updatedAt: null }),
    host: new ValueStore({
      cpuPct: 12, cores: 8, memUsedBytes: 2 ** 33, memTotalBytes: 2 ** 35, diskPath: '/', diskUsedBytes: 2 ** 38,
      diskTotalBytes: 2 ** 40, load1: 0.5, load5: 0.4, load15: 0.3, updatedAt: 1,
    }),
    services: new ValueStore({
      systemdAvailable: true,
      notice: null,
      services: ['vllm.service', 'ollama.service'].map((unit) => ({
        provider: unit.split('.')[0], unit, loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 100,
        since: null, health: 'ok' as const, healthDetail: null, gpuMemMiB: null, error: null,
      })),
    }),
    usage: new ValueStore({ rows: [], dbState: 'absent' as const, notice: null, stats: null }),
    budgets: new ValueStore({ rows: [], source: null, notice: null }),
    engines: new ValueStore<EngineFeedState>({ engines: [], routing: [], notice: null, updatedAt: null }),
    gateway: new ValueStore({
      mode: 'disabled' as const, host: '127.0.0.1', port: 4000, pid: null, startedAt: null, restarts: 0, nextRestartAt: null,
      lastExit: null, message: null, health: null, version: null,
    }),
    config: new ValueStore({ ...loaded, paths: loaded.paths ?? resolvePaths({ home: home.home }), generation: 0 }),
    frame: new FrameClock(10, 1000),
    actions: {
      serviceAction: async (unit, verb) => {
        calls.push([unit, verb]);
        if (opts.failAction) return { ok: false, unit, verb, argv: [], message: opts.failAction[0], output: opts.failAction };
        return { ok: true, unit, verb, argv: [], message: `${verb} ${unit}: done`, output: [] };
      },
      // the real follower, on a log that does not exist
      follow: async () => new FileFollower({ file: '/nonexistent/gateway.log', format: gatewayLogLine, missingNote: 'no log here' }),
      unitState: async (unit) => ({ ...s.services.getSnapshot().services.find((x) => x.unit === unit)! }),
      providers: {
        drain: async (name) => {
          calls.push([name, 'drain']);
          return { ...providerView(name), state: 'drained' as const };
        },
        undrain: async (name) => {
          calls.push([name, 'undrain']);
          return providerView(name);
        },
        keepDrained: () => {},
        routing: async (name) => providerView(name),
        engine: async (name) => s.engines.getSnapshot().engines.find((e) => e.provider === name) ?? null,
      },
      exportConfig: async () => ({ ok: true, message: 'exported' }),
      restartGateway: async () => 'restarted',
      filterRequests: (text) => filtered.push(text),
      usageSeries: async (scope, target, sinceMs) => {
        series.push([scope, target]);
        const first = Math.floor(sinceMs / 60_000) * 60_000;
        return Array.from({ length: 60 }, (_, i) => ({ minute: first + i * 60_000, requests: i % 7, errors: 0, costUsd: (i % 5) * 1e-6 }));
      },
      requestAttempts: async () => [],
      quit: () => {},
    },
    refreshMs: 1000,
    rateWindowS: 10,
    statsWindowS: 60,
    title: 'ptui',
  };
  return { s, calls, filtered, series, home };
}

export function mountApp(columns: number, rows: number, s: DashboardSources) {
  const term = new Terminal(columns, rows);
  const keys = new Keyboard();
  const ink = render(
    <ThemeProvider theme={makeTheme(false)}>
      <SourcesProvider sources={s}>
        <App />
      </SourcesProvider>
    </ThemeProvider>,
    { stdout: term as never, stdin: keys as never, debug: true, exitOnCtrlC: false, patchConsole: false },
  );
  // redraw when a store changes, as the session's frame clock does
  const unfollow = s.frame.follow([s.gpu, s.host, s.services, s.usage, s.budgets, s.gateway, s.config]);
  s.frame.start();
  unmounts.push(() => {
    ink.unmount();
    unfollow();
    s.frame.stop();
  });
  const frame = (what: string | RegExp) =>
    waitFor(() => {
      const f = term.last();
      return (typeof what === 'string' ? f.includes(what) : what.test(f)) && f;
    }, String(what), 5000);
  return { term, keys, frame };
}
