// The real gateway as a child process (`node bin/ptui gateway`) for tests, plus a config that
// points it at the simulated upstream. Needs a build first (`npx tsc -p tsconfig.json`).
//
//   const sim = await startSimUpstream();
//   const home = makeSimHome(sim.url);
//   const gw = await startGateway({ home: home.home });
//   ... fetch(`${gw.url}/v1/chat/completions`) ...
//   await gw.stop();            // SIGTERM, resolves with the exit code
//   const rows = readUsageRows(home.runtimeDir);
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cleanEnv, makeHome, REPO_ROOT, type HomeFiles, type TempHome } from './config.js';

export const PTUI_BIN = path.join(REPO_ROOT, 'bin', 'ptui');

export interface GatewayChild {
  url: string;
  port: number;
  child: ChildProcess;
  /** everything the child wrote on stderr so far */
  stderr(): string;
  /** stderr parsed as JSON log lines (non-JSON lines skipped) */
  logLines(): Array<Record<string, unknown>>;
  /** resolves with the exit code (null if killed by a signal) */
  exited: Promise<number | null>;
  /** SIGTERM (or another signal) and wait for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  home: string;
  /** extra CLI args after `gateway` (e.g. ['--runtime-dir', dir]) */
  args?: string[];
  /** extra environment (the rest is cleanEnv()) */
  env?: Record<string, string>;
  /** default 0: the gateway picks a free port and logs it */
  port?: number;
  timeoutMs?: number;
}

interface Spawned {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function spawnGateway(opts: StartOptions): Spawned {
  const args = [PTUI_BIN, '--home', opts.home, 'gateway', '--port', String(opts.port ?? 0), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, {
    env: cleanEnv(opts.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  child.stdout!.resume();
  // 'close', not 'exit': only then has everything the child wrote on stderr been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

function parseLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a partial last line
    }
  }
  return out;
}

export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts the gateway and waits until /health answers; throws with its stderr if it exits first. */
export async function startGateway(opts: StartOptions): Promise<GatewayChild> {
  const s = spawnGateway(opts);
  let exitCode: number | null | undefined;
  void s.exited.then((c) => (exitCode = c ?? -1));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let port: number;
  try {
    port = await waitFor(
      () => {
        if (exitCode !== undefined) throw new Error(`gateway exited with ${exitCode} before listening:\n${s.stderr()}`);
        const l = parseLines(s.stderr()).find((x) => x.event === 'listening');
        return l ? (l.port as number) : undefined;
      },
      'the gateway to listen',
      timeoutMs,
    );
  } catch (e) {
    s.child.kill('SIGKILL');
    throw e;
  }
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      try {
        const r = await fetch(`${url}/health`);
        await r.arrayBuffer();
        return r.ok;
      } catch {
        return false;
      }
    },
    '/health',
    timeoutMs,
  );
  return {
    url,
    port,
    child: s.child,
    stderr: s.stderr,
    logLines: () => parseLines(s.stderr()),
    exited: s.exited,
    stop: async (signal = 'SIGTERM') => {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
      try {
        return await s.exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a gateway that is expected to fail at startup; returns its exit code and stderr. */
export async function runGatewayToExit(opts: StartOptions): Promise<{ code: number | null; stderr: string }> {
  const s = spawnGateway(opts);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  const code = await s.exited;
  clearTimeout(timer);
  return { code, stderr: s.stderr() };
}

export interface SimHomeOptions {
  /** logical models; default: `chat` -> sim/sim-model, `embed` -> sim/sim-embed */
  models?: Record<string, unknown>;
  /** extra providers besides `sim` (e.g. a second sim, or a dead port) */
  providers?: Record<string, unknown>;
  /** gateway.yaml contents */
  gateway?: Record<string, unknown>;
  /** timeout_s of the `sim` provider */
  timeoutS?: number;
  env?: HomeFiles['env'];
}

/** A temp home whose provider `sim` points at a simulated upstream. */
export function makeSimHome(simUrl: string, o: SimHomeOptions = {}): TempHome {
  return makeHome({
    providers: {
      providers: {
        sim: { type: 'openai-compatible', api_base: `${simUrl}/v1`, health_url: `${simUrl}/health`, timeout_s: o.timeoutS ?? 30 },
        ...(o.providers ?? {}),
      },
    },
    mappings: {
      capabilities: { chat: {}, embeddings: {} },
      models: o.models ?? {
        chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
        embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
      },
    },
    gateway: o.gateway ?? {},
    env: o.env,
  });
}

/**
 * One chat completion through the gateway under a chosen `x-request-id`, so the test can find
 * its row (and, with the id in the prompt, its upstream request); the whole answer as text.
 */
export async function chatWithId(
  gatewayUrl: string,
  id: string,
  model: string,
  o: { content?: string; extra?: Record<string, unknown>; timeoutMs?: number } = {},
): Promise<{ id: string; status: number; text: string }> {
  const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: o.content ?? 'hello' }], ...o.extra }),
    signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
  });
  return { id, status: res.status, text: await res.text() };
}

/** Every usage-log row, opened read-only (as the dashboard does); [] when the file is not there. */
export function readUsageRows(runtimeDir: string): Array<Record<string, any>> {
  const file = path.join(runtimeDir, 'usage', 'llm_usage.db');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM llm_usage ORDER BY id').all() as Array<Record<string, any>>;
  } finally {
    db.close();
  }
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * The temp homes and gateway children one suite starts, removed together by cleanup() (from
 * afterEach or afterAll): gateways stopped first, then their homes deleted.
 */
export class TestGateways {
  private readonly homes: TempHome[] = [];
  private readonly children: GatewayChild[] = [];

  /** Tracks a home made elsewhere (e.g. by a suite's own config builder). */
  track(h: TempHome): TempHome {
    this.homes.push(h);
    return h;
  }

  /** A tracked home whose provider `sim` points at the simulated upstream. */
  simHome(simUrl: string, o: SimHomeOptions = {}): TempHome {
    return this.track(makeSimHome(simUrl, o));
  }

  /** Starts a gateway on a home (tracked, stopped by cleanup). */
  async start(home: TempHome | string, opts: Omit<StartOptions, 'home'> = {}): Promise<GatewayChild> {
    const g = await startGateway({ ...opts, home: typeof home === 'string' ? home : home.home });
    this.children.push(g);
    return g;
  }

  async cleanup(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const g of this.children.splice(0)) await g.stop(signal);
    for (const h of this.homes.splice(0)) h.cleanup();
  }
}
