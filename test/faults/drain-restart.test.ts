// Drain, then restart, under steady traffic: two simulated vLLM engines (real processes) behind
// one balanced model. For each engine in turn: drain it at the gateway, wait (bounded) until the
// gateway has nothing in flight to it and the engine reports 0 running, stop the process, start
// a new one on the same port, wait for its health and for the gateway to scrape it, undrain, and
// see traffic reach the new process. Clients send throughout; not one request may fail.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, REPO_ROOT, type TempHome } from '../helpers/config.js';
import { freePort, type GatewayChild, startGateway, waitFor } from '../helpers/gateway.js';
import { getOnce } from '../helpers/load.js';
import { MODE, newAgent, pick } from './fixture.js';
import { steadyTraffic } from '../helpers/traffic.js';
import { report } from './report.js';

const ROUNDS = pick(1, 3);
const CONCURRENCY = pick(6, 16);
const SIM_MAIN = path.join(REPO_ROOT, 'dist', 'sim', 'main.js');

interface Engine {
  name: string;
  port: number;
  child: ChildProcess | null;
  restarts: number;
}

async function startEngine(e: Engine): Promise<void> {
  const child = spawn(process.execPath, [SIM_MAIN, '--port', String(e.port), '--engine', 'vllm', '--latency-ms', '5', '--chunk-interval-ms', '3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  await waitFor(() => out.includes('sim_listening') || child.exitCode !== null, `sim ${e.name} to listen`);
  if (!out.includes('sim_listening')) throw new Error(`sim ${e.name} exited with ${child.exitCode}`);
  e.child = child;
}

async function stopEngine(e: Engine): Promise<void> {
  const child = e.child!;
  e.child = null;
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const engines: Engine[] = [];
let home: TempHome;
let gw: GatewayChild;
const agent = newAgent(64);

async function json(pathname: string): Promise<any> {
  const r = await getOnce(`${gw.url}${pathname}`);
  return JSON.parse(r.text);
}
const providerView = async (name: string) => (await json('/admin/providers')).providers.find((p: { name: string }) => p.name === name);
const engineView = async (name: string) => (await json('/engines')).engines.find((p: { provider: string }) => p.provider === name);
async function admin(name: string, action: 'drain' | 'undrain'): Promise<void> {
  const r = await fetch(`${gw.url}/admin/providers/${name}/${action}`, { method: 'POST' });
  expect(r.status).toBe(200);
  await r.arrayBuffer();
}

describe(`drain, then restart, under steady traffic (${MODE})`, () => {
  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const e: Engine = { name, port: await freePort(), child: null, restarts: 0 };
      await startEngine(e);
      engines.push(e);
    }
    const provider = (e: Engine) => ({ type: 'openai-compatible', api_base: `http://127.0.0.1:${e.port}/v1`, engine: 'vllm', timeout_s: 30 });
    home = makeHome({
      providers: { providers: { a: provider(engines[0]), b: provider(engines[1]) } },
      mappings: {
        capabilities: { chat: {} },
        models: { bal: { capability: 'chat', routing: 'balanced', targets: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }] } },
      },
      gateway: {},
    });
    gw = await startGateway({ home: home.home, env: { PTUI_ENGINE_REFRESH_MS: '100' } });
  });

  afterAll(async () => {
    await gw?.stop();
    for (const e of engines) if (e.child) await stopEngine(e);
    home?.cleanup();
    await agent.close();
  });

  it('zero failed client requests while each engine is drained, restarted and brought back', async () => {
    const byProvider: Record<string, number> = {};
    const traffic = steadyTraffic({ agent, url: gw.url, model: 'bal', concurrency: CONCURRENCY, idPrefix: 'drain' });
    const drainWaits: number[] = [];
    try {
      await waitFor(async () => (await engineView('a'))?.up && (await engineView('b'))?.up, 'both engines scraped');
      for (let round = 0; round < ROUNDS; round++) {
        for (const e of engines) {
          await admin(e.name, 'drain');
          const t0 = Date.now();
          // Bounded: the gateway's own in-flight count and the engine's running count reach 0.
          await waitFor(async () => {
            const v = await providerView(e.name);
            return v.in_flight === 0 && v.engine?.running === 0 && v.state === 'drained';
          }, `${e.name} drained to 0 in flight and 0 running`, 15_000);
          drainWaits.push(Date.now() - t0);
          await stopEngine(e);
          await startEngine(e);
          e.restarts++;
          await waitFor(async () => (await getOnce(`http://127.0.0.1:${e.port}/health`).catch(() => ({ status: 0 }))).status === 200, `${e.name} healthy`);
          // The gateway sees the new process (its counters start from zero) before traffic returns.
          await waitFor(async () => {
            const v = await engineView(e.name);
            return v?.up && v.vllm.finished_total?.stop === 0 && v;
          }, `${e.name} scraped after its restart`);
          await admin(e.name, 'undrain');
          await waitFor(async () => (await engineView(e.name))?.vllm?.finished_total?.stop > 0, `traffic reaching the restarted ${e.name}`, 15_000);
          byProvider[e.name] = (byProvider[e.name] ?? 0) + 1;
        }
      }
    } finally {
      await traffic.stop();
    }
    const { sent, failures } = traffic;
    report('drain-restart', { mode: MODE, requests: sent, failures: failures.length, restarts: engines.map((e) => `${e.name}:${e.restarts}`).join(' '), drain_wait_ms_max: Math.max(...drainWaits) });
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(50);
    expect(engines.every((e) => e.restarts === ROUNDS)).toBe(true);
    expect(gw.logLines().filter((l) => l.event === 'provider_drained')).toHaveLength(ROUNDS * 2);
  }, 300_000);
});
