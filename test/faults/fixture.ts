// Shared setup of the fault suites: the short/full mode, a home whose logical models
// each hit one failure mode of the simulated upstream, and the mixed request kinds the soak and
// crash suites send.
import { spawnSync } from 'node:child_process';
import { Agent, request } from 'undici';
import type { SimUpstream } from '../../src/sim/upstream.js';
import { makeSimHome, type SimHomeOptions } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';

/** `short` (CI, the whole suite in a few minutes on 2 cores) or `full` (the numbers). */
export const MODE: 'short' | 'full' = process.env.FAULTS_MODE === 'short' ? 'short' : 'full';
export const pick = <T>(short: T, full: T): T => (MODE === 'short' ? short : full);

/** How long the `hang` target waits for headers before the gateway gives up (504). */
export const HANG_TIMEOUT_S = 0.5;

/**
 * Logical models, one per upstream behaviour. The failure is chosen by the concrete model's
 * `@mode` suffix, which the simulator reads; `quick` is the same simulator with a short timeout.
 */
export const FAULT_MODELS = {
  ok: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
  e500: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@500' }] },
  e429: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@429' }] },
  hang: { capability: 'chat', targets: [{ provider: 'quick', model: 'sim-model@hang' }] },
  cut: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@cut' }] },
  badjson: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@badjson' }] },
  fallback: {
    capability: 'chat',
    targets: [
      { provider: 'sim', model: 'sim-model@500' },
      { provider: 'sim', model: 'sim-model' },
    ],
  },
  slow: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@slow' }] },
  embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
};

export function faultHome(sim: SimUpstream, o: Omit<SimHomeOptions, 'models' | 'providers'> = {}): TempHome {
  return makeSimHome(sim.url, {
    ...o,
    models: FAULT_MODELS,
    providers: {
      quick: { type: 'openai-compatible', api_base: `${sim.url}/v1`, timeout_s: HANG_TIMEOUT_S },
    },
    env: o.env,
  });
}

export interface Kind {
  name: string;
  path: string;
  body: Record<string, unknown>;
  /** the HTTP status the client must see */
  status: number;
  /** 'success' or 'error' in the usage log */
  row: 'success' | 'error';
  /** a streamed 200 that must end with [DONE] (false: it must end with an error event) */
  done?: boolean;
}

const chat = (model: string, stream = false) => ({
  model,
  stream,
  messages: [{ role: 'user', content: 'say something short please' }],
});

/** The mix: every upstream fault, streamed and not, with successes the most common. */
export const KINDS: Kind[] = [
  { name: 'ok', path: '/v1/chat/completions', body: chat('ok'), status: 200, row: 'success' },
  { name: 'ok-stream', path: '/v1/chat/completions', body: chat('ok', true), status: 200, row: 'success', done: true },
  { name: 'completions', path: '/v1/completions', body: { model: 'ok', prompt: 'once upon a time' }, status: 200, row: 'success' },
  { name: 'embeddings', path: '/v1/embeddings', body: { model: 'embed', input: ['a b', 'c'] }, status: 200, row: 'success' },
  { name: 'fallback', path: '/v1/chat/completions', body: chat('fallback', true), status: 200, row: 'success', done: true },
  { name: '500', path: '/v1/chat/completions', body: chat('e500'), status: 502, row: 'error' },
  { name: '429-stream', path: '/v1/chat/completions', body: chat('e429', true), status: 502, row: 'error' },
  { name: 'hang', path: '/v1/chat/completions', body: chat('hang'), status: 504, row: 'error' },
  { name: 'hang-stream', path: '/v1/chat/completions', body: chat('hang', true), status: 504, row: 'error' },
  { name: 'cut-stream', path: '/v1/chat/completions', body: chat('cut', true), status: 200, row: 'error', done: false },
  { name: 'badjson', path: '/v1/chat/completions', body: chat('badjson'), status: 502, row: 'error' },
  // A broken SSE payload is relayed as it came (the gateway does not parse content chunks).
  { name: 'badjson-stream', path: '/v1/chat/completions', body: chat('badjson', true), status: 200, row: 'success', done: true },
  { name: 'bad-request', path: '/v1/chat/completions', body: { model: 'ok', messages: 'not an array' }, status: 400, row: 'error' },
  { name: 'unknown-model', path: '/v1/chat/completions', body: chat('no-such-model'), status: 404, row: 'error' },
];

/** Kind for request i: successes weighted up (half of all requests), faults evenly spread. */
export function kindFor(i: number): Kind {
  if (i % 2 === 0) return KINDS[(i / 2) % 5]; // the five success kinds
  return KINDS[5 + (((i - 1) / 2) % (KINDS.length - 5))];
}

export interface Outcome {
  id: string;
  kind: string;
  status: number;
  /** the response body as text ('' when the request failed at the socket level) */
  text: string;
  /** socket-level failure (the gateway closed or reset the connection) */
  error?: string;
}

export async function send(agent: Agent, url: string, kind: Kind, id: string, headers: Record<string, string> = {}): Promise<Outcome> {
  try {
    const r = await request(url + kind.path, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
      body: JSON.stringify(kind.body),
    });
    const text = await r.body.text();
    return { id, kind: kind.name, status: r.statusCode, text };
  } catch (err) {
    return { id, kind: kind.name, status: 0, text: '', error: (err as Error).message };
  }
}

/** What is wrong with an outcome given its kind, or null. */
export function checkOutcome(o: Outcome, kind: Kind): string | null {
  if (o.error) return `${o.id} (${kind.name}): socket error ${o.error}`;
  if (o.status !== kind.status) return `${o.id} (${kind.name}): HTTP ${o.status}, expected ${kind.status}: ${o.text.slice(0, 200)}`;
  if (o.status >= 400) {
    try {
      const e = JSON.parse(o.text).error;
      if (typeof e?.message !== 'string' || typeof e?.type !== 'string') return `${o.id}: error body not OpenAI-shaped: ${o.text.slice(0, 200)}`;
    } catch {
      return `${o.id}: error body is not JSON: ${o.text.slice(0, 200)}`;
    }
  }
  if (kind.done === true && !o.text.trimEnd().endsWith('data: [DONE]')) return `${o.id} (${kind.name}): stream without [DONE]`;
  if (kind.done === false && (o.text.includes('[DONE]') || !o.text.includes('"error"'))) {
    return `${o.id} (${kind.name}): a cut stream must end with an error event, not [DONE]: ${o.text.slice(-200)}`;
  }
  return null;
}

export const newAgent = (connections: number) => new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });

/** Runs a privileged command: directly as root, else through `sudo -n` (CI runners have it). */
function privileged(args: string[]): { ok: boolean; detail: string } {
  const asRoot = process.getuid?.() === 0;
  const r = spawnSync(asRoot ? args[0] : 'sudo', asRoot ? args.slice(1) : ['-n', ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, detail: (r.error?.message ?? r.stderr?.trim()) || `exit ${r.status}` };
}

/**
 * Mounts a tmpfs of `size` (e.g. '4m') on dir, owned by the current user; returns null, or why
 * it could not (no root and no password-less sudo).
 */
export function mountTmpfs(dir: string, size: string): string | null {
  const opts = `size=${size},uid=${process.getuid?.() ?? 0},gid=${process.getgid?.() ?? 0},mode=0755`;
  const r = privileged(['mount', '-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  return r.ok ? null : r.detail;
}

export function unmountTmpfs(dir: string): void {
  privileged(['umount', '-l', dir]);
}
