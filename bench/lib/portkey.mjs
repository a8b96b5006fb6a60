// Portkey's open-source gateway, the peer we measure against. It is not a dependency of
// ptui: it is fetched from the npm registry into bench/.portkey/ the first time a bench needs
// it, and reused afterwards.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, log, sleep, startProcess, waitForHttp } from './common.mjs';

export const PORTKEY_PREFIX = path.join(BENCH_DIR, '.portkey');
const PKG_DIR = path.join(PORTKEY_PREFIX, 'node_modules', '@portkey-ai', 'gateway');
export const PORTKEY_ENTRY = path.join(PKG_DIR, 'build', 'start-server.js');
/** Pinned so that figures stay comparable between runs; bump deliberately. */
export const PORTKEY_VERSION = process.env.PTUI_BENCH_PORTKEY_VERSION ?? '1.15.2';
/**
 * Portkey declares `@hono/node-server ^1.3.3`; from 1.14.2 on, hono keeps a fetch Response's
 * immutable Headers for stream bodies and every streamed request through Portkey fails with
 * `TypeError: immutable` (Portkey-AI/gateway#1389). 1.14.1 is the newest that streams.
 */
const HONO_NODE_SERVER = '1.14.1';
const HONO_DIR = path.join(PORTKEY_PREFIX, 'node_modules', '@hono', 'node-server');

function installedVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function npmBusy() {
  const r = spawnSync('pgrep', ['-f', 'npm (install|ci)'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** Install Portkey on demand; returns its version, or throws with npm's output. */
export async function ensurePortkey() {
  const ok = fs.existsSync(PORTKEY_ENTRY) && installedVersion(PKG_DIR) === PORTKEY_VERSION && installedVersion(HONO_DIR) === HONO_NODE_SERVER;
  if (!ok) {
    // Two npm runs at once can corrupt the shared cache; wait for another one to finish.
    for (let i = 0; i < 120 && npmBusy(); i++) await sleep(1000);
    log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into bench/.portkey (not a product dependency)`);
    fs.mkdirSync(PORTKEY_PREFIX, { recursive: true });
    const manifest = {
      private: true,
      description: 'Benchmark peer only; installed on demand by bench/lib/portkey.mjs',
      dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
      overrides: { '@hono/node-server': HONO_NODE_SERVER },
    };
    fs.writeFileSync(path.join(PORTKEY_PREFIX, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
    const r = spawnSync('npm', ['install', '--prefix', PORTKEY_PREFIX, '--no-audit', '--no-fund', '--loglevel=error'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status !== 0 || !fs.existsSync(PORTKEY_ENTRY)) {
      throw new Error(`npm install @portkey-ai/gateway@${PORTKEY_VERSION} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
  }
  return { version: installedVersion(PKG_DIR), honoNodeServer: installedVersion(HONO_DIR) };
}

/**
 * Start Portkey headless on `port` (its flag is `--port=N`; 8787 by default). It answers
 * GET / with a plain text banner once it listens.
 */
export async function startPortkey(port) {
  const proc = startProcess('portkey', process.execPath, [PORTKEY_ENTRY, '--headless', `--port=${port}`]);
  await waitForHttp(`http://127.0.0.1:${port}/`, proc);
  proc.port = port;
  proc.origin = `http://127.0.0.1:${port}`;
  return proc;
}

/** Headers that make Portkey forward to an OpenAI-compatible upstream at `upstreamBase` (…/v1). */
export function portkeyHeaders(upstreamBase) {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': upstreamBase,
    authorization: 'Bearer bench-dummy-key',
  };
}
