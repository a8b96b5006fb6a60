// The gateway process over its life: startup failures (exit 1, one clear line), hot reload
// (valid and invalid edits), an extra callback module that throws, and SIGTERM with requests
// in flight.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, runGatewayToExit, TestGateways, waitFor, type GatewayChild, type SimHomeOptions } from '../helpers/gateway.js';

let sim: SimUpstream;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream();
});

afterEach(async () => {
  await gateways.cleanup('SIGKILL');
});

afterAll(async () => {
  await sim?.close();
});

const home = (o: SimHomeOptions = {}): TempHome => gateways.simHome(sim.url, o);
const start = (h: TempHome, args: string[] = []): Promise<GatewayChild> => gateways.start(h, { args });

const chatBody = (model: string, extra: object = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], ...extra });

async function chat(g: GatewayChild, model: string, extra: object = {}) {
  const r = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model, extra) });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

describe('startup failures', () => {
  it('a runtime dir that does not exist is created', async () => {
    const h = home();
    const runtime = path.join(h.home, 'deep', 'new', 'runtime');
    const g = await start(h, ['--runtime-dir', runtime]);
    expect((await chat(g, 'chat')).status).toBe(200);
    await waitFor(() => readUsageRows(runtime).length === 1, 'a row in the new runtime dir');
  });

  it('a runtime dir that cannot be created -> exit 1 with one clear line', async () => {
    const h = home();
    const blocker = path.join(h.home, 'a-file');
    fs.writeFileSync(blocker, 'not a dir');
    const r = await runGatewayToExit({ home: h.home, args: ['--runtime-dir', path.join(blocker, 'runtime')] });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ptui gateway: runtime dir .*a-file\/runtime is not writable \(ENOTDIR\)/);
  });

  it('a runtime dir without write permission -> exit 1', async () => {
    const h = home();
    const runtime = path.join(h.home, 'ro-runtime');
    fs.mkdirSync(path.join(runtime, 'usage'), { recursive: true });
    fs.chmodSync(path.join(runtime, 'usage'), 0o500);
    fs.chmodSync(runtime, 0o500);
    try {
      // root ignores permissions; the check only means something for other users
      if (process.getuid?.() === 0) return;
      const r = await runGatewayToExit({ home: h.home, args: ['--runtime-dir', runtime] });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/runtime dir .* is not writable/);
    } finally {
      fs.chmodSync(runtime, 0o700);
      fs.chmodSync(path.join(runtime, 'usage'), 0o700);
    }
  });

  it('the port already in use -> exit 1 with one clear line', async () => {
    const h = home();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runGatewayToExit({ home: h.home, port });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`ptui gateway: port ${port} on 127.0.0.1 is already in use (another gateway running? use --port)`]);
    } finally {
      blocker.close();
    }
  });

  it('an invalid config at start -> exit 1 naming file and key', async () => {
    const h = home({ models: { chat: { capability: 'chat', targets: [{ provider: 'nope', model: 'm' }] } } });
    const r = await runGatewayToExit({ home: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ptui gateway: invalid config: model-mappings.yaml: models.chat.targets\[0\].provider: unknown provider "nope"/);
  });

  it('a callback module that cannot be loaded -> exit 1', async () => {
    const h = home({ gateway: { callbacks: ['callbacks/broken.mjs'] } });
    fs.mkdirSync(path.join(h.home, 'callbacks'));
    fs.writeFileSync(path.join(h.home, 'callbacks', 'broken.mjs'), 'export default class {{{\n');
    const r = await runGatewayToExit({ home: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ptui gateway: cannot load callback module callbacks\/broken.mjs: /);
  });

  it('a callback module whose default export is not a callback -> exit 1', async () => {
    const h = home({ gateway: { callbacks: ['callbacks/number.mjs'] } });
    fs.mkdirSync(path.join(h.home, 'callbacks'));
    fs.writeFileSync(path.join(h.home, 'callbacks', 'number.mjs'), 'export default 42;\n');
    const r = await runGatewayToExit({ home: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/callback module callbacks\/number.mjs: default export must be/);
  });
});

describe('extra callback modules', () => {
  it('a callback that throws in onSuccess does not change the response; it is counted', async () => {
    const h = home({ gateway: { callbacks: ['callbacks/throwing.mjs', 'callbacks/recording.mjs'] } });
    fs.mkdirSync(path.join(h.home, 'callbacks'));
    fs.writeFileSync(
      path.join(h.home, 'callbacks', 'throwing.mjs'),
      `export default class Throwing {
         name = 'throwing';
         onSuccess() { throw new Error('boom from test callback'); }
         async onError() { throw new Error('async boom'); }
       }\n`,
    );
    // A plain hook object that rewrites the request: proves extras run in onRequest too.
    fs.writeFileSync(
      path.join(h.home, 'callbacks', 'recording.mjs'),
      `export default { name: 'recording', onRequest(ctx) { ctx.responseHeaders['x-test-callback'] = 'seen'; } };\n`,
    );
    const g = await start(h);
    const reference = home();
    const g2 = await start(reference);

    const a = await chat(g, 'chat');
    const b = await chat(g2, 'chat');
    expect(a.status).toBe(200);
    expect(a.headers.get('x-test-callback')).toBe('seen');
    const strip = (s: string) => s.replace(/"id":"[^"]*"/, '').replace(/"created":\d+/, '');
    expect(strip(a.body)).toBe(strip(b.body));

    const bad = await chat(g, 'nope');
    expect(bad.status).toBe(404);
    expect(JSON.parse(bad.body).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });

    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/backend_callback_errors_total\{callback="throwing",hook="onSuccess"\} 1/);
    expect(metrics).toMatch(/backend_callback_errors_total\{callback="throwing",hook="onError"\} 1/);
    expect(g.logLines().some((l) => l.event === 'callback_failed' && l.callback === 'throwing')).toBe(true);
    // the usage log (after the extras) still wrote both rows
    await waitFor(() => readUsageRows(h.runtimeDir).length === 2, 'two rows');
  });
});

describe('hot reload', () => {
  function writeMappings(h: TempHome, models: Record<string, unknown>) {
    const file = path.join(h.configDir, 'model-mappings.yaml');
    fs.writeFileSync(file, YAML.stringify({ capabilities: { chat: {}, embeddings: {} }, models }));
  }

  it('a model added to config is served within 2 s', async () => {
    const h = home();
    const g = await start(h);
    expect((await chat(g, 'added')).status).toBe(404);
    writeMappings(h, {
      chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
      added: { capability: 'chat', targets: [{ provider: 'sim', model: 'added-concrete' }] },
    });
    const t0 = Date.now();
    await waitFor(async () => (await chat(g, 'added')).status === 200, 'the new model', 2000, 50);
    expect(Date.now() - t0).toBeLessThanOrEqual(2000);
    const models = await (await fetch(`${g.url}/v1/models`)).json();
    expect(models.data.map((m: { id: string }) => m.id).sort()).toEqual(['added', 'chat']);
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/backend_config_reloads_total\{result="success"\} [1-9]/);
  });

  it('an invalid edit keeps the old config serving and shows in /health', async () => {
    const h = home();
    const g = await start(h);
    fs.writeFileSync(path.join(h.configDir, 'model-mappings.yaml'), 'models: [unclosed\n');
    const health = await waitFor(async () => {
      const j = await (await fetch(`${g.url}/health`)).json();
      return j.status === 'degraded' ? j : undefined;
    }, '/health to report the config error');
    expect(health.config_error).toMatch(/model-mappings.yaml/);
    expect((await chat(g, 'chat')).status).toBe(200);
    expect(g.logLines().some((l) => l.event === 'config_invalid')).toBe(true);

    // a fix clears it
    writeMappings(h, { chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] } });
    await waitFor(async () => (await (await fetch(`${g.url}/health`)).json()).status === 'ok', '/health ok again');
  });

  it('a master key set by a reload applies to the next request', async () => {
    const h = home();
    const g = await start(h);
    expect((await chat(g, 'chat')).status).toBe(200);
    fs.writeFileSync(path.join(h.configDir, 'gateway.yaml'), YAML.stringify({ master_key: 'reloaded-key' }));
    await waitFor(async () => (await chat(g, 'chat')).status === 401, 'auth to be required');
    const ok = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer reloaded-key' },
      body: chatBody('chat'),
    });
    expect(ok.status).toBe(200);
  });

  it('a request in flight during a reload finishes on its old config', async () => {
    const h = home({
      models: { chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'old@slow' }] } },
    });
    const g = await start(h);
    const inflight = chat(g, 'chat', { stream: true, max_tokens: 6 });
    await waitFor(() => sim.requests.find((q) => (q.body as any)?.model === 'old@slow'), 'the slow request upstream');
    writeMappings(h, { other: { capability: 'chat', targets: [{ provider: 'sim', model: 'new' }] } });
    await waitFor(async () => (await chat(g, 'other')).status === 200, 'the new config');
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.body).toContain('data: [DONE]');
    expect((await chat(g, 'chat')).status).toBe(404);
  });
});

describe('usage log trouble', () => {
  it('a foreign write lock: answers go on, /health is degraded with the reason, rows land after', async () => {
    const h = home();
    const g = await start(h);
    expect((await chat(g, 'chat')).status).toBe(200);
    await waitFor(() => readUsageRows(h.runtimeDir).length === 1, 'the first row');
    const db = new Database(path.join(h.runtimeDir, 'usage', 'llm_usage.db'));
    try {
      db.exec('BEGIN EXCLUSIVE');
      for (let i = 0; i < 3; i++) expect((await chat(g, 'chat')).status).toBe(200);
      const health = await waitFor(async () => {
        const j = await (await fetch(`${g.url}/health`)).json();
        return j.status === 'degraded' ? j : undefined;
      }, '/health degraded');
      expect(health.usage_log_error).toMatch(/usage log/);
      expect(health.config_error).toBeUndefined();
      db.exec('COMMIT');
    } finally {
      db.close();
    }
    await waitFor(() => readUsageRows(h.runtimeDir).length === 4, 'the buffered rows to land');
    await waitFor(async () => (await (await fetch(`${g.url}/health`)).json()).status === 'ok', '/health ok again');
  });
});

describe('SIGTERM', () => {
  it('requests in flight complete, the process exits 0, their rows are there', async () => {
    const h = home({
      models: { chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'term@slow' }] } },
    });
    const g = await start(h);
    const before = sim.requests.length;
    // three streams of 5 chunks 200 ms apart, and one non-streamed request
    const pending = [
      chat(g, 'chat', { stream: true, max_tokens: 5 }),
      chat(g, 'chat', { stream: true, max_tokens: 5 }),
      chat(g, 'chat', { stream: true, max_tokens: 5 }),
    ];
    await waitFor(() => sim.requests.length - before >= 3, 'three requests upstream');
    const exitCode = g.stop('SIGTERM');
    const results = await Promise.all(pending);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toContain('data: [DONE]');
    }
    expect(await exitCode).toBe(0);
    const rows = readUsageRows(h.runtimeDir);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === 'success' && r.completion_tokens === 5)).toBe(true);
    expect(g.logLines().some((l) => l.event === 'shutting_down')).toBe(true);
  });

  it('SIGINT (Ctrl-C in the foreground) drains and exits 0 too', async () => {
    const h = home();
    const g = await start(h);
    expect((await chat(g, 'chat')).status).toBe(200);
    expect(await g.stop('SIGINT')).toBe(0);
    expect(readUsageRows(h.runtimeDir)).toHaveLength(1);
  });

  it('a new connection after SIGTERM is refused', async () => {
    const h = home({ models: { chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'x@slow' }] } } });
    const g = await start(h);
    const inflight = chat(g, 'chat', { stream: true, max_tokens: 10 });
    await waitFor(() => sim.requests.find((q) => (q.body as any)?.model === 'x@slow' && !q.completed), 'slow request');
    const exited = g.stop('SIGTERM');
    await waitFor(() => g.logLines().some((l) => l.event === 'shutting_down'), 'shutdown to begin');
    await expect(fetch(`${g.url}/health`)).rejects.toThrow();
    expect((await inflight).status).toBe(200);
    expect(await exited).toBe(0);
  });
});
