// The real console in tmux, supervising the real gateway in front of two simulated engines that
// run as (fake) systemd units: a vLLM-style one and an Ollama-style one behind one balanced model.
// The Services rows show the vLLM engine's queue, KV %, tokens/s and p95 TTFT and the Ollama's
// loaded models; Enter joins unit, engine, GPU process, routing and traffic; and `r` then `d`
// drains the vLLM provider at the gateway, restarts its unit (a new engine process on the same
// port), waits until it is healthy and read again, and undrains, while a client sends traffic
// throughout and sees no failed request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome, REPO_ROOT, type TempHome } from '../helpers/config.js';
import { freePort, waitFor } from '../helpers/gateway.js';
import { getOnce } from '../helpers/load.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';
import { newAgent, send } from '../faults/fixture.js';
import { chatKinds, steadyTraffic, type SteadyTraffic } from '../helpers/traffic.js';
import { stopSpawnedUnits } from '../helpers/units.js';

const SIM_MAIN = path.join(REPO_ROOT, 'dist', 'sim', 'main.js');
const OLLAMA_MODEL = 'qwen2.5-coder:7b';
const CONCURRENCY = 4;

interface LogEntry {
  argv: string[];
}
const readLog = (file: string): LogEntry[] =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

describe.skipIf(!tmuxAvailable())('engines in the console, and drain-first restart', () => {
  let home: TempHome;
  let bin: string;
  let t: TmuxSession;
  let state: string;
  let gatewayUrl: string;
  const ports = { vllm: 0, ollama: 0, gateway: 0 };
  const agent = newAgent(CONCURRENCY * 2);
  const files = (name: string) => path.join(home.home, name);
  const unitFile = (unit: string) => JSON.parse(fs.readFileSync(path.join(state, `${unit}.json`), 'utf8'));
  const systemctl = (...args: string[]) =>
    execFileSync(process.execPath, [path.join(FAKE_BIN_DIR, 'systemctl'), '--no-ask-password', ...args], {
      env: { ...process.env, FAKE_SYSTEMD_STATE: state },
    });

  // A client sending traffic from the first test to the drain's end, counting every failure.
  let traffic: SteadyTraffic;
  const engines = async () => JSON.parse((await getOnce(`${gatewayUrl}/engines`)).text);

  beforeAll(async () => {
    ports.vllm = await freePort();
    ports.ollama = await freePort();
    ports.gateway = await freePort();
    gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
    home = makeHome({
      providers: {
        providers: {
          vllm: {
            type: 'openai-compatible', api_base: `http://127.0.0.1:${ports.vllm}/v1`, engine: 'vllm', service: 'vllm.service',
            health_url: `http://127.0.0.1:${ports.vllm}/health`, gpu_usd_per_hour: 2.5, timeout_s: 30,
          },
          ollama: { type: 'ollama', api_base: `http://127.0.0.1:${ports.ollama}/v1`, service: 'ollama.service', health_url: `http://127.0.0.1:${ports.ollama}/api/tags`, timeout_s: 30 },
        },
      },
      mappings: {
        capabilities: { chat: {} },
        models: {
          chat: { capability: 'chat', routing: 'balanced', targets: [{ provider: 'vllm', model: 'm' }, { provider: 'ollama', model: OLLAMA_MODEL }] },
          // one slow stream on the vLLM engine alone: the request the drain waits for
          pinned: { capability: 'chat', targets: [{ provider: 'vllm', model: 'm@slow' }] },
        },
      },
      gateway: {},
    });
    bin = bareBinDir();
    state = files('systemd');
    fs.mkdirSync(state);
    // Each engine is its unit's main process: a restart is a new process on the same port.
    // Requests take a few hundred ms, so a drain has requests in flight to wait for.
    const unit = (name: string, port: number, engine: string) =>
      fs.writeFileSync(
        path.join(state, `${name}.json`),
        JSON.stringify({
          ActiveState: 'inactive', SubState: 'dead', MainPID: 0,
          ExecStart: [process.execPath, SIM_MAIN, '--port', String(port), '--engine', engine, '--models', engine === 'ollama' ? OLLAMA_MODEL : 'm', '--latency-ms', '250', '--chunk-interval-ms', '40'],
          ExecLog: files(`${name}.log`),
        }),
      );
    unit('vllm.service', ports.vllm, 'vllm');
    unit('ollama.service', ports.ollama, 'ollama');
    systemctl('start', 'vllm.service', 'ollama.service');
    for (const port of [ports.vllm, ports.ollama]) {
      await waitFor(async () => (await getOnce(`http://127.0.0.1:${port}/health`).catch(() => ({ status: 0 }))).status === 200, `sim on ${port}`);
    }
    // nvidia-smi reports GPU memory held by the vLLM unit's process
    fs.writeFileSync(files('apps.json'), JSON.stringify([{ gpu: 0, pid: unitFile('vllm.service').MainPID, name: 'python3', usedMiB: 40000 }]));
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(ports.gateway), '--stop-gateway-on-exit'],
      env: cleanEnv({
        PATH: `${FAKE_BIN_DIR}:${bin}`,
        HOME: home.home,
        PTUI_SYSTEMD_DIR: state,
        FAKE_SYSTEMD_STATE: state,
        FAKE_SYSTEMCTL_LOG: files('systemctl.log'),
        FAKE_NVIDIA_SMI_APPS: files('apps.json'),
      }),
      columns: 160,
      rows: 50,
    });
    await t.waitForText('● running', 30_000);
  });

  afterAll(async () => {
    await traffic?.stop();
    t?.kill();
    if (state) stopSpawnedUnits(state, ['vllm.service', 'ollama.service']);
    await agent.close().catch(() => {});
    home?.cleanup();
    if (bin) fs.rmSync(bin, { recursive: true, force: true });
  });

  it('shows running/waiting, KV %, tokens/s and p95 TTFT of the vLLM unit, read at the console’s refresh', async () => {
    traffic = steadyTraffic({ agent, url: gatewayUrl, model: 'chat', concurrency: CONCURRENCY, idPrefix: 'eng' });
    // the gateway the console started reads its engines at the console's refresh (1 s)
    await waitFor(async () => (await engines()).refresh_s === 1, 'the gateway reading engines every second');
    const set = (body: Record<string, unknown>) => fetch(`http://127.0.0.1:${ports.vllm}/sim/engine`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
    await set({ waiting: 3, kvUsage: 0.42 });
    const row = /vllm\.service\s+active\/running\s+\d+\s+\S+\s+ok\s+39\.1G\s+\d+\/3\s+42%\s+[1-9]\d*(\.\d+k)?\s+\d+(ms|\.\d+s)\b/;
    await t.waitForScreen((s) => row.test(s) && s, 'the vLLM row with its engine figures', 20_000);
    // a change at the engine reaches the row (two refreshes; generous for a busy machine)
    const t0 = Date.now();
    await set({ kvUsage: 0.57 });
    await t.waitForText(/vllm\.service.*\/3\s+57%/, 15_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('shows the Ollama unit’s loaded model', async () => {
    await t.waitForText(new RegExp(`ollama\\.service\\s+active/running.*${OLLAMA_MODEL.replace(/\./g, '\\.')}`), 15_000);
  });

  it('opens a service’s detail joining unit, engine, GPU process, routing and traffic', async () => {
    t.sendKeys('Enter');
    const screen = await t.waitForText(/Traffic the gateway sent to vllm[^]*Gateway routing[^]*routes\s+chat/, 10_000);
    expect(screen).toMatch(/Service: vllm\.service/);
    expect(screen).toMatch(/GPU processes \(1\)/);
    expect(screen).toMatch(/engine\s+vllm\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(screen).toMatch(/KV cache\s+57%/);
    expect(screen).toMatch(/queue\s+\d+ running · 3 waiting/);
    expect(screen).toMatch(/TTFT\s+p50 \S+ · p95 \S+/);
    expect(screen).toMatch(/\$\/1M generated\s+\$[\d.]+ · GPU \$2\.50\/h/);
    expect(screen).toMatch(/routes\s+chat \(target 1 of 2\)/);
    t.sendKeys('Escape', 'j', 'Enter');
    const ollama = await t.waitForText(/Loaded models \(1\)/, 10_000);
    expect(ollama).toMatch(new RegExp(`${OLLAMA_MODEL.replace(/\./g, '\\.')}\\s+3\\.7G · 100% in VRAM · unloads in \\d`));
    t.sendKeys('Escape', 'k');
    await t.waitForText(/▸ vllm\.service/);
  });

  it('r then d: drains, restarts the unit, waits for health, undrains; the client sees no failure', async () => {
    const before = unitFile('vllm.service').MainPID;
    // a stream of about 2 s is in flight to vLLM when the drain starts: it must finish, whole
    const stream = chatKinds('pinned', 'one slow stream')[1];
    const slow = send(agent, gatewayUrl, { ...stream, body: { ...stream.body, max_tokens: 10 } }, 'slow-1');
    await waitFor(async () => JSON.parse((await getOnce(`${gatewayUrl}/admin/providers`)).text).providers.find((p: { name: string }) => p.name === 'vllm').in_flight > 0, 'the slow stream in flight');
    t.sendKeys('r');
    await t.waitForText('restart vllm.service? d drain vllm first (only target of pinned: 503 while drained) · y/n');
    t.sendKeys('d');
    const seen: string[] = [];
    await t.waitForScreen(
      (s) => {
        const status = s.trimEnd().split('\n').pop() ?? '';
        if (seen[seen.length - 1] !== status) seen.push(status);
        return /restart vllm\.service: done \(drained in [\d.]+ s, ready in [\d.]+ s\); vllm undrained/.test(s);
      },
      'the drain-first restart to finish',
      90_000,
    );
    // the console showed the in-flight count falling while it waited
    expect(seen.some((l) => /draining vllm: [1-9]\d* in flight · engine running \d+/.test(l))).toBe(true);
    const slowDone = await slow;
    expect(slowDone.status).toBe(200);
    expect(slowDone.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(readLog(files('systemctl.log')).some((e) => e.argv.join(' ') === '--no-ask-password restart vllm.service')).toBe(true);
    const after = unitFile('vllm.service').MainPID;
    expect(after).not.toBe(before);
    // the gateway drained and undrained it, in that order
    const log = fs.readFileSync(path.join(home.runtimeDir, 'logs', 'gateway.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const events = log.filter((e) => e.provider === 'vllm' && /^provider_(un)?drained$/.test(e.event)).map((e) => e.event);
    expect(events).toEqual(['provider_drained', 'provider_undrained']);
    // traffic reaches the new engine process
    await waitFor(async () => ((await engines()).engines.find((e: { provider: string }) => e.provider === 'vllm')?.vllm?.finished_total?.stop ?? 0) > 0, 'traffic on the restarted engine', 20_000);
    await traffic.stop();
    await agent.close(); // idle keep-alive sockets would hold the gateway's shutdown
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(20);
  }, 120_000);

  it('quits cleanly', async () => {
    t.sendKeys('q');
    expect(await t.waitForExit(15_000)).toBe(0);
  });
});
