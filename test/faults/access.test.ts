// Access: with a master key, every /v1/* route and /budgets refuse a missing, wrong,
// truncated or padded key with an OpenAI-shaped 401 (and log the rejection, sending nothing
// upstream); the key check is constant-time; the default bind is loopback only; /metrics and the
// other open endpoints expose no key or prompt; and a config whose unit name or callback path
// tries to escape is refused at load by `ptui config check` and `ptui gateway` alike.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { cleanEnv, makeHome, REPO_ROOT, type TempHome } from '../helpers/config.js';
import { makeSimHome, PTUI_BIN, readUsageRows, runGatewayToExit, startGateway, type GatewayChild } from '../helpers/gateway.js';
import { getOnce } from '../helpers/load.js';
import { MODE } from './fixture.js';
import { report } from './report.js';

const MASTER_KEY = 'pk-master-Zq8r7T2vLm4Nx9Wc3Bd6Fh1Jk5';
const PROVIDER_KEY = 'upstream-secret-Yt6Ur4Ie2Wo8Pq0As';
const PROMPT_MARKER = 'prompt-marker-Hx7Kd2Lq9';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;

const ROUTES: Array<{ method: 'GET' | 'POST'; path: string; body?: unknown }> = [];
for (const prefix of ['/v1', '']) {
  ROUTES.push(
    { method: 'POST', path: `${prefix}/chat/completions`, body: { model: 'chat', messages: [{ role: 'user', content: PROMPT_MARKER }] } },
    { method: 'POST', path: `${prefix}/chat/completions`, body: { model: 'chat', stream: true, messages: [{ role: 'user', content: PROMPT_MARKER }] } },
    { method: 'POST', path: `${prefix}/completions`, body: { model: 'chat', prompt: PROMPT_MARKER } },
    { method: 'POST', path: `${prefix}/embeddings`, body: { model: 'embed', input: PROMPT_MARKER } },
    { method: 'GET', path: `${prefix}/models` },
  );
}
ROUTES.push({ method: 'GET', path: '/budgets' }, { method: 'GET', path: '/health/targets' });

const BAD_AUTH: Record<string, string | undefined> = {
  none: undefined,
  'wrong key': `Bearer ${MASTER_KEY.replace('Z', 'Y')}`,
  'prefix of the key': `Bearer ${MASTER_KEY.slice(0, -1)}`,
  'first character only': `Bearer ${MASTER_KEY[0]}`,
  'key plus a suffix': `Bearer ${MASTER_KEY}x`,
  'empty bearer': 'Bearer ',
  'key without Bearer': MASTER_KEY,
  // the scheme is case-insensitive, but one space separates it from the key
  'padding after the scheme': `bearer  ${MASTER_KEY}`,
  'Basic auth': `Basic ${Buffer.from(`user:${MASTER_KEY}`).toString('base64')}`,
  'very long': `Bearer ${'k'.repeat(8000)}`,
};

async function call(route: (typeof ROUTES)[number], authorization?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (route.body) headers['content-type'] = 'application/json';
  if (authorization !== undefined) headers.authorization = authorization;
  const r = await fetch(gw.url + route.path, { method: route.method, headers, body: route.body ? JSON.stringify(route.body) : undefined });
  return { status: r.status, text: await r.text() };
}

describe(`access control (${MODE})`, () => {
  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: true });
    home = makeSimHome(sim.url, {
      gateway: { master_key: '${AI_BACKEND_MASTER_KEY}' },
      env: { AI_BACKEND_MASTER_KEY: MASTER_KEY },
    });
    // The provider carries an API key too: it must not show anywhere either.
    const providers = fs.readFileSync(path.join(home.configDir, 'providers.yaml'), 'utf8');
    fs.writeFileSync(path.join(home.configDir, 'providers.yaml'), providers.replace('type: openai-compatible', `type: openai-compatible\n    api_key: ${PROVIDER_KEY}`));
    gw = await startGateway({ home: home.home });
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await sim?.close();
    home?.cleanup();
  });

  it('every /v1/* route (with and without /v1) and /budgets: 401 without the exact key', async () => {
    const upstreamBefore = sim.requests.length;
    const wrong: string[] = [];
    let refused = 0;
    for (const route of ROUTES) {
      for (const [name, auth] of Object.entries(BAD_AUTH)) {
        const r = await call(route, auth);
        refused++;
        const err = (() => {
          try {
            return JSON.parse(r.text).error;
          } catch {
            return null;
          }
        })();
        if (r.status !== 401 || err?.type !== 'authentication_error') wrong.push(`${route.method} ${route.path} (${name}): ${r.status} ${r.text.slice(0, 100)}`);
        if (r.text.includes(MASTER_KEY)) wrong.push(`${route.method} ${route.path} (${name}): the answer quotes the key`);
      }
    }
    expect(wrong).toEqual([]);
    expect(sim.requests.length, 'nothing refused reaches the upstream').toBe(upstreamBefore);
    // Refused LLM requests are logged (README, "Usage log"), as 401s.
    const rows = readUsageRows(home.runtimeDir).filter((r) => r.http_status === 401);
    const llmRoutes = ROUTES.filter((r) => r.method === 'POST').length;
    expect(rows.length).toBe(llmRoutes * Object.keys(BAD_AUTH).length);

    // the scheme is case-insensitive
    for (const route of ROUTES) {
      for (const auth of [`Bearer ${MASTER_KEY}`, `bearer ${MASTER_KEY}`]) {
        const r = await call(route, auth);
        expect(r.status, `${route.method} ${route.path} with the key: ${r.text.slice(0, 200)}`).toBe(200);
      }
    }
    report('access', { mode: MODE, routes: ROUTES.length, refusals_checked: refused, wrongly_admitted: wrong.length });
  });

  it('the comparison is constant-time: SHA-256 digests of both sides through timingSafeEqual (code-level check)', () => {
    // Timing is too noisy to measure in CI, so this reads the code: both sides are hashed to a
    // fixed 32-byte digest (no early exit on length) and compared with crypto.timingSafeEqual.
    const src = fs.readFileSync(path.join(REPO_ROOT, 'src', 'gateway', 'auth.ts'), 'utf8');
    expect(src).toMatch(/import\s*\{[^}]*\btimingSafeEqual\b[^}]*\}\s*from\s*'node:crypto'/);
    // SHA-256 to a 32-byte Buffer: a Hash object's digest, or the one-shot crypto.hash
    expect(src).toMatch(/createHash\('sha256'\)|\bhash\('sha256', \w+, 'buffer'\)/);
    expect(src).toMatch(/timingSafeEqual\(\s*sha256\(key\),\s*expected\s*\)/);
    expect(src).toMatch(/timingSafeEqual\(\s*sha256\(token\),\s*this\.masterHash\s*\)/);
    // No plain string comparison of the header against the key anywhere in the gateway.
    for (const f of fs.readdirSync(path.join(REPO_ROOT, 'src', 'gateway'))) {
      if (!f.endsWith('.ts')) continue;
      const text = fs.readFileSync(path.join(REPO_ROOT, 'src', 'gateway', f), 'utf8');
      expect(text, f).not.toMatch(/authorization\s*===|===\s*`Bearer|master_key\s*===/);
    }
  });

  it('/metrics, /health, /health/targets and the gateway log expose no key and no prompt', async () => {
    const open = ['/metrics', '/health'];
    for (const p of open) {
      const r = await getOnce(gw.url + p);
      expect(r.status, p).toBe(200);
      for (const needle of [MASTER_KEY, PROVIDER_KEY, PROMPT_MARKER]) expect(r.text, `${p} contains ${needle}`).not.toContain(needle);
    }
    const authed = await getOnce(`${gw.url}/budgets`, { authorization: `Bearer ${MASTER_KEY}` });
    const models = await getOnce(`${gw.url}/v1/models`, { authorization: `Bearer ${MASTER_KEY}` });
    const targets = await getOnce(`${gw.url}/health/targets`, { authorization: `Bearer ${MASTER_KEY}` });
    expect(targets.status).toBe(200);
    for (const r of [authed, models, targets]) for (const needle of [MASTER_KEY, PROVIDER_KEY]) expect(r.text).not.toContain(needle);
    for (const needle of [MASTER_KEY, PROVIDER_KEY, PROMPT_MARKER]) expect(gw.stderr()).not.toContain(needle);
    // The upstream got the provider's key, never the client's master key.
    const up = sim.requests.find((r) => r.method === 'POST');
    expect(up?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(sim.requests.some((r) => JSON.stringify(r.headers).includes(MASTER_KEY))).toBe(false);
  });

  it('the default bind is loopback only (no --host)', () => {
    const listening = gw.logLines().find((l) => l.event === 'listening');
    expect(listening?.host).toBe('127.0.0.1');
    // From the kernel's side: the listening socket's local address, /proc/net/tcp{,6}.
    const locals: string[] = [];
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 4 || f[3] !== '0A') continue;
        const [addr, port] = f[1].split(':');
        if (parseInt(port, 16) === gw.port) locals.push(addr);
      }
    }
    // 0100007F is 127.0.0.1 in /proc's little-endian hex; nothing on 0.0.0.0 or ::.
    expect(locals).toEqual(['0100007F']);
  });
});

// These two tests start a CLI and a gateway per hostile value, two dozen processes in all: on a
// busy shared machine each start can take seconds, and their sum is not what is under test.
const SPAWN_HEAVY_TIMEOUT_MS = 240_000;

describe('configs that try to escape are refused at load', () => {
  const pwned = path.join(REPO_ROOT, '.faults-pwned-' + process.pid);
  afterAll(() => fs.rmSync(pwned, { force: true }));

  const UNITS = [
    'vllm.service; rm -rf /',
    `$(touch ${pwned}).service`,
    `\`touch ${pwned}\`.service`,
    'vllm.service && reboot',
    'vllm.service | cat',
    'vllm.service > /etc/passwd',
    '../../etc/systemd/system/vllm.service',
    '/etc/systemd/system/vllm.service',
    '-H.service',
    '--now.service',
    'vllm .service',
    'vllm.service\nExecStart=/bin/sh',
    'vllm\\x2d.service',
  ];
  const CALLBACKS = [
    '../outside.js',
    'callbacks/../../outside.js',
    '/etc/passwd',
    '/tmp/evil.js',
    '..\\outside.js',
    'data:text/javascript,process.exit(7)',
    'node:child_process',
    `$(touch ${pwned}).js`,
  ];

  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [PTUI_BIN, ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });

  it('unit names with shell characters or paths: config check and gateway exit 1, naming the key', async () => {
    const results: string[] = [];
    for (const unit of UNITS) {
      const h = makeHome({
        providers: { providers: { vllm: { type: 'openai-compatible', api_base: 'http://127.0.0.1:9/v1', service: unit } } },
        mappings: { capabilities: { chat: {} }, models: { m: { capability: 'chat', targets: [{ provider: 'vllm', model: 'x' }] } } },
        gateway: null,
      });
      try {
        const check = run(['--home', h.home, 'config', 'check']);
        expect(check.status, `config check with service ${JSON.stringify(unit)}: ${check.stdout}${check.stderr}`).toBe(1);
        expect(check.stdout + check.stderr).toContain('providers.yaml: providers.vllm.service:');
        const gwRun = await runGatewayToExit({ home: h.home });
        expect(gwRun.code, `gateway with service ${JSON.stringify(unit)}: ${gwRun.stderr}`).toBe(1);
        expect(gwRun.stderr).toContain('providers.vllm.service');
        results.push(unit);
      } finally {
        h.cleanup();
      }
    }
    expect(results.length).toBe(UNITS.length);
    expect(fs.existsSync(pwned)).toBe(false);
  }, SPAWN_HEAVY_TIMEOUT_MS);

  it('callback paths outside home (.., absolute, URLs, builtins): exit 1 before serving', async () => {
    // A module right outside home that would prove it ran.
    const wrong: string[] = [];
    for (const cb of CALLBACKS) {
      const h = makeHome({ gateway: { callbacks: [cb] } });
      fs.writeFileSync(path.join(path.dirname(h.home), 'outside.js'), `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(pwned)}, 'x'); export default {};\n`);
      try {
        const check = run(['--home', h.home, 'config', 'check']);
        const gwRun = await runGatewayToExit({ home: h.home, env: { VLLM_API_KEY: 'x', OPENAI_API_KEY: 'x' } });
        if (gwRun.code !== 1) wrong.push(`gateway with callback ${JSON.stringify(cb)}: exit ${gwRun.code}: ${gwRun.stderr.slice(0, 200)}`);
        if (gwRun.stderr.includes('"event":"listening"')) wrong.push(`gateway with callback ${JSON.stringify(cb)} started serving`);
        // Escapes (.., absolute) are schema errors that config check reports; the others are
        // files that do not exist under home, which only loading finds.
        const escapes = cb.includes('..') || cb.startsWith('/');
        if (escapes && check.status !== 1) wrong.push(`config check with callback ${JSON.stringify(cb)}: exit ${check.status}`);
        if (escapes && !(check.stdout + check.stderr).includes('gateway.yaml: callbacks[0]:')) {
          wrong.push(`config check with callback ${JSON.stringify(cb)}: no line for callbacks[0]: ${check.stdout}`);
        }
      } finally {
        fs.rmSync(path.join(path.dirname(h.home), 'outside.js'), { force: true });
        h.cleanup();
      }
    }
    expect(wrong).toEqual([]);
    expect(fs.existsSync(pwned), 'a module outside home was executed').toBe(false);
  }, SPAWN_HEAVY_TIMEOUT_MS);
});
