// Shared bits of the key suites: `ptui keys` as a child process (sync, or async so requests can
// run while it does), and a gateway home on the simulated upstream with prices.
import { execFile } from 'node:child_process';
import { cleanEnv, REPO_ROOT } from '../helpers/config.js';
import { runPtui } from '../cli/run-ptui.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { makeSimHome, PTUI_BIN, startGateway, type GatewayChild } from '../helpers/gateway.js';
import { PRICE, postJson } from '../policy/helpers.js';

/** Runs `ptui --home H keys ...` and returns the key it printed (create, rotate); throws on failure. */
export function keysCli(home: string, ...args: string[]): string {
  const r = runPtui(['--home', home, 'keys', ...args]);
  if (r.status !== 0) throw new Error(`ptui keys ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The same without blocking this process's event loop; resolves when the command has returned. */
export function keysCliAsync(home: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PTUI_BIN, '--home', home, 'keys', ...args], { env: cleanEnv(), cwd: REPO_ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ptui keys ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(String(stdout).trim());
    });
  });
}

export function keysList(home: string): any[] {
  return JSON.parse(keysCli(home, 'list', '--json')).keys;
}

export const chatModels = (extra: Record<string, unknown> = {}) => ({
  chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: PRICE }], ...extra },
  other: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: PRICE }] },
  embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
});

/** A chat request ('one two three', max_tokens 8: $0.011 at PRICE) with this Authorization header (null: none). */
export function chat(url: string, auth: string | null, extra: Record<string, unknown> = {}, path = '/v1/chat/completions') {
  return postJson(`${url}${path}`, { model: 'chat', messages: [{ role: 'user', content: 'one two three' }], max_tokens: 8, ...extra }, auth === null ? {} : { authorization: auth });
}

/**
 * One simulated upstream per suite, and homes and gateways that are cleaned up after each test.
 * Call at the top level of a test file.
 */
export function keySuite() {
  let sim: SimUpstream;
  const cleanups: Array<() => Promise<unknown> | void> = [];
  beforeAll(async () => {
    sim = await startSimUpstream({ completionTokens: 8 });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    sim.requests.length = 0;
    sim.setLatency(0);
  });
  return {
    get sim() {
      return sim;
    },
    home(o: { models?: Record<string, unknown>; gateway?: Record<string, unknown> } = {}): TempHome {
      const h = makeSimHome(sim.url, { models: o.models ?? chatModels(), gateway: o.gateway ?? {} });
      cleanups.push(() => h.cleanup());
      return h;
    },
    async gateway(h: TempHome): Promise<GatewayChild> {
      const gw = await startGateway({ home: h.home });
      cleanups.push(() => gw.stop());
      return gw;
    },
  };
}
