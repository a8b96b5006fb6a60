// The processes a gateway bench talks to: the project's simulated upstream, our gateway in a
// throwaway home (with or without its callback pipeline), and their configs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, ROOT, freePort, sleep, startProcess, waitForHttp } from './common.mjs';

export const LOGICAL_MODEL = 'bench-chat';
/** Another build's bin/ptui (an A/B of a hot-path change, built in a copy of the tree). */
export const GATEWAY_BIN = process.env.PTUI_BENCH_GATEWAY_BIN ?? path.join(ROOT, 'bin', 'ptui');
export const CONCRETE_MODEL = 'sim-llama-8b';

/**
 * `node dist/sim/main.js --port N --latency-ms 0`: an OpenAI-compatible upstream that answers at
 * once; with chunkIntervalMs, a stream sends one event that often.
 */
export async function startUpstream(port, { chunkIntervalMs } = {}) {
  port ??= await freePort();
  const script = process.env.PTUI_BENCH_UPSTREAM ?? path.join(ROOT, 'dist', 'sim', 'main.js');
  if (!fs.existsSync(script)) throw new Error(`simulated upstream not built: ${script} (run npm run build)`);
  // PTUI_BENCH_ENGINE=vllm|ollama: the sim also serves an engine's /metrics or /api/ps, so a
  // gateway that reads engines scrapes it during the run (a before/after of scraping's cost).
  const engine = process.env.PTUI_BENCH_ENGINE ? ['--engine', process.env.PTUI_BENCH_ENGINE] : [];
  const interval = chunkIntervalMs === undefined ? [] : ['--chunk-interval-ms', String(chunkIntervalMs)];
  const proc = startProcess('upstream', process.execPath, [script, '--port', String(port), '--latency-ms', '0', ...engine, ...interval]);
  // Any HTTP answer means it listens (the sim need not serve a health path).
  await waitForHttp(`http://127.0.0.1:${port}/v1/models`, proc);
  proc.port = port;
  proc.base = `http://127.0.0.1:${port}/v1`;
  return proc;
}

/**
 * The floor proxy (bench/lib/floor-proxy.mjs) in front of an upstream, once it answers; its
 * `origin` is set. connections: its pool's size (its default 64 when not given). durable: the
 * usage-log file of the durable floor (the floor that parses and writes a row before each end).
 */
export async function startFloor(upstream, { connections, nodeArgs = [], name = 'floor', durable } = {}) {
  const port = await freePort();
  const args = [...nodeArgs, path.join(BENCH_DIR, 'lib', 'floor-proxy.mjs'), '--port', String(port), '--upstream', `http://127.0.0.1:${upstream.port}`];
  if (connections !== undefined) args.push('--connections', String(connections));
  if (durable !== undefined) args.push('--durable', durable);
  const proc = startProcess(name, process.execPath, args);
  await waitForHttp(`http://127.0.0.1:${port}/v1/models`, proc);
  proc.origin = `http://127.0.0.1:${port}`;
  return proc;
}

/**
 * A ptui home whose one logical model routes to the upstream, with every pipeline stage doing
 * real work: a priced target (so cost and spend are non-zero), budgets at all three scopes in
 * block mode with limits no bench reaches (so the check and the reservation run on every
 * request but never reject), secret guardrails in block mode, cache off.
 */
export function makeBenchHome(upstreamBase) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bench-'));
  const cfg = path.join(home, 'config');
  fs.mkdirSync(cfg);
  const budget = { max_budget_usd: 1_000_000_000, budget_window: '1d', action: 'block' };
  fs.writeFileSync(
    path.join(cfg, 'providers.yaml'),
    YAML.stringify({ providers: { sim: { type: 'openai-compatible', api_base: upstreamBase, timeout_s: 60, budget } } }),
  );
  fs.writeFileSync(
    path.join(cfg, 'model-mappings.yaml'),
    YAML.stringify({
      capabilities: { chat: { budget } },
      models: {
        [LOGICAL_MODEL]: {
          capability: 'chat',
          budget,
          targets: [{ provider: 'sim', model: CONCRETE_MODEL, pricing: { input_usd_per_1m: 0.5, output_usd_per_1m: 1.5 } }],
        },
      },
    }),
  );
  fs.writeFileSync(
    path.join(cfg, 'gateway.yaml'),
    YAML.stringify({ guardrails: { secrets: { action: 'block' } }, cache: { enabled: false } }),
  );
  return home;
}

/**
 * The V8 flags the gateway ships with: the console starts its gateway child with them and the
 * systemd unit's ExecStart carries them, so the benches run ptui the same way. Read from the
 * build (their one owner); PTUI_BENCH_GATEWAY_FLAGS=none benches without them.
 */
export const SHIPPED_GATEWAY_FLAGS =
  process.env.PTUI_BENCH_GATEWAY_FLAGS === 'none'
    ? []
    : await import(pathToFileURL(path.join(ROOT, 'dist', 'config', 'gateway-flags.js')).href).then(
        (m) => [...m.GATEWAY_NODE_FLAGS],
        () => [],
      );

/**
 * `node <shipped flags> bin/ptui gateway --home <home> --port <p>`. pipeline=false sets PTUI_BENCH_NO_PIPELINE=1,
 * which makes the gateway register no callbacks: the bare proxy, for comparison.
 */
export async function startGateway({ name = 'gateway', home, port, pipeline = true, nodeArgs = [], bin = GATEWAY_BIN }) {
  port ??= await freePort();
  const env = {
    AI_BACKEND_ENABLE_CACHE: 'false',
    // Unset anything the caller's shell may carry that would point elsewhere.
    AI_BACKEND_MASTER_KEY: undefined,
    AI_BACKEND_HOME: undefined,
    AI_BACKEND_CONFIG_DIR: undefined,
    AI_BACKEND_RUNTIME_DIR: undefined,
    AI_BACKEND_CACHE_DIR: undefined,
    AI_BACKEND_GATEWAY_HOST: undefined,
    AI_BACKEND_GATEWAY_PORT: undefined,
    PTUI_BENCH_NO_PIPELINE: pipeline ? undefined : '1',
  };
  const proc = startProcess(
    name,
    process.execPath,
    [...SHIPPED_GATEWAY_FLAGS, ...nodeArgs, bin, '--home', home, 'gateway', '--port', String(port)],
    { env },
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, proc, { okStatus: 200 });
  proc.port = port;
  proc.home = home;
  return proc;
}

/**
 * The bench home with the features the pipeline grew since: its provider read as a vLLM engine
 * (the upstream must be started with PTUI_BENCH_ENGINE=vllm), a requests and tokens per minute
 * limit on the model, and a virtual key with its own limits that every request carries. No
 * limit is ever reached. Returns the home and the key's Authorization header.
 */
export function makeFeaturesHome(upstreamBase, bin = GATEWAY_BIN) {
  const home = makeBenchHome(upstreamBase);
  editConfig(home, 'providers.yaml', (d) => (d.providers.sim.engine = 'vllm'));
  editConfig(home, 'model-mappings.yaml', (d) => (d.models[LOGICAL_MODEL].rate_limits = { rpm: 1_000_000_000, tpm: 1_000_000_000_000 }));
  const r = spawnSync(process.execPath, [bin, '--home', home, 'keys', 'create', '--alias', 'bench', '--rpm', '1000000000', '--tpm', '1000000000000'], {
    encoding: 'utf8',
    env: { ...process.env, AI_BACKEND_HOME: undefined, AI_BACKEND_RUNTIME_DIR: undefined, AI_BACKEND_CONFIG_DIR: undefined },
  });
  const key = r.stdout.trim();
  if (r.status !== 0 || !key) throw new Error(`ptui keys create failed: ${r.stderr}`);
  return { home, headers: { authorization: `Bearer ${key}` } };
}

export function removeHome(home) {
  try {
    fs.rmSync(home, { recursive: true, force: true });
  } catch {}
}

/** A redis-server on this machine for shared mode, persistence off (README "Several boxes"). */
export async function startRedis() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('redis-server is not installed (Debian package redis-server)');
  const port = await freePort();
  const proc = startProcess('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  for (let i = 0; !proc.tail.some((l) => l.includes('Ready to accept connections')); i++) {
    if (i > 150 || proc.exited) throw new Error(`redis-server did not start:\n${proc.tail.join('\n')}`);
    await sleep(100);
  }
  return { proc, port };
}

/** Points a bench home's gateway at that Redis, in shared mode with on_unavailable: local. */
export function shareThroughRedis(home, redisPort, gatewayId) {
  editConfig(home, 'gateway.yaml', (d) => (d.shared = { redis_url: `redis://127.0.0.1:${redisPort}`, gateway_id: gatewayId, on_unavailable: 'local' }));
}

/** Changes one config file of a bench home in place: parsed, handed to fn, written back. */
function editConfig(home, name, fn) {
  const file = path.join(home, 'config', name);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  fn(doc);
  fs.writeFileSync(file, YAML.stringify(doc));
}
