// Every bad input against the real gateway child and the simulated upstream: the
// client gets an OpenAI-shaped error with the right status, and (for LLM endpoints) exactly one
// usage row with the right status, http_status and error_type.
import http from 'node:http';
import net from 'node:net';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { expectErrorBody } from '../helpers/openai-errors.js';
import { freePort, type GatewayChild, readUsageRows, TestGateways, waitFor } from '../helpers/gateway.js';

const KEY = 'sk-master-test';
const MAX_BODY = 4096;

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();
let deadPort: number;
let seq = 0;

const target = (model: string, provider = 'sim') => ({ provider, model });

beforeAll(async () => {
  sim = await startSimUpstream();
  deadPort = await freePort(); // nothing listens there: connection refused
  home = gateways.simHome(sim.url, {
    providers: {
      dead: { type: 'openai-compatible', api_base: `http://127.0.0.1:${deadPort}/v1`, timeout_s: 5 },
      impatient: { type: 'openai-compatible', api_base: `${sim.url}/v1`, timeout_s: 1 },
    },
    models: {
      chat: { capability: 'chat', targets: [target('sim-model')] },
      embed: { capability: 'embeddings', targets: [target('sim-embed')] },
      refused: { capability: 'chat', targets: [target('x', 'dead')] },
      err500: { capability: 'chat', targets: [target('e@500')] },
      err429: { capability: 'chat', targets: [target('r@429')] },
      hang: { capability: 'chat', targets: [target('h@hang', 'impatient')] },
      cut: { capability: 'chat', targets: [target('c@cut'), target('after-cut')] },
      badjson: { capability: 'chat', targets: [target('b@badjson')] },
      refuses: { capability: 'chat', targets: [target('r@400'), target('never-tried')] },
      slow: { capability: 'chat', targets: [target('s@slow')] },
      fallback: { capability: 'chat', targets: [target('x', 'dead'), target('f1@500'), target('second')] },
    },
    gateway: { master_key: KEY, max_body_bytes: MAX_BODY },
  });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function post(pathname: string, body: string | object, opts: { auth?: string | null; id?: string } = {}): Promise<Reply & { id: string }> {
  const id = opts.id ?? `bad-${++seq}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': id };
  const auth = opts.auth === undefined ? `Bearer ${KEY}` : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const r = await fetch(`${gw.url}${pathname}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // SSE or not JSON
  }
  return { status: r.status, headers: r.headers, text, json, id };
}

const chat = (model: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

async function rowFor(id: string): Promise<Record<string, any>> {
  const row = await waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === id), `usage row ${id}`);
  // exactly one
  expect(readUsageRows(home.runtimeDir).filter((r) => r.request_id === id)).toHaveLength(1);
  return row;
}

function expectOpenAIError(r: Reply, status: number, code: string) {
  expect(r.status).toBe(status);
  expectErrorBody(r.json, code);
}

async function expectRow(id: string, httpStatus: number, errorType: string | null) {
  const row = await rowFor(id);
  expect(row.status).toBe(errorType ? 'error' : 'success');
  expect(row.http_status).toBe(httpStatus);
  expect(row.error_type).toBe(errorType);
  return row;
}

describe('request validation', () => {
  it('invalid JSON -> 400 and a row', async () => {
    const r = await post('/v1/chat/completions', '{"model": "chat", ');
    expectOpenAIError(r, 400, 'invalid_request_error');
    expect(r.json.error.message).toMatch(/not valid JSON/);
    await expectRow(r.id, 400, 'invalid_request_error');
  });

  it('a body that is not an object -> 400', async () => {
    for (const body of ['[1,2]', '"text"', 'null', '42']) {
      const r = await post('/v1/chat/completions', body);
      expectOpenAIError(r, 400, 'invalid_request_error');
      expect(r.json.error.message).toMatch(/must be a JSON object/);
      await expectRow(r.id, 400, 'invalid_request_error');
    }
  });

  it('an empty body -> 400', async () => {
    const r = await post('/v1/chat/completions', '');
    expectOpenAIError(r, 400, 'invalid_request_error');
    await expectRow(r.id, 400, 'invalid_request_error');
  });

  it('missing model -> 400 with param model', async () => {
    const r = await post('/v1/chat/completions', { messages: [] });
    expectOpenAIError(r, 400, 'invalid_request_error');
    expect(r.json.error.param).toBe('model');
    await expectRow(r.id, 400, 'invalid_request_error');
  });

  it('model not a string -> 400', async () => {
    const r = await post('/v1/chat/completions', { model: 7, messages: [] });
    expectOpenAIError(r, 400, 'invalid_request_error');
    expect(r.json.error.param).toBe('model');
  });

  it('unknown model -> 404 model_not_found listing the known ones', async () => {
    const r = await post('/v1/chat/completions', chat('gpt-nope'));
    expectOpenAIError(r, 404, 'model_not_found');
    expect(r.json.error.message).toContain('gpt-nope');
    expect(r.json.error.message).toMatch(/known: chat, embed, refused/);
    const row = await expectRow(r.id, 404, 'model_not_found');
    expect(row.logical_model).toBe('gpt-nope');
    expect(row.provider).toBeNull();
  });

  it('messages not an array -> 400 with param messages', async () => {
    const r = await post('/v1/chat/completions', { model: 'chat', messages: 'hello' });
    expectOpenAIError(r, 400, 'invalid_request_error');
    expect(r.json.error.param).toBe('messages');
    await expectRow(r.id, 400, 'invalid_request_error');
  });

  it('completions without prompt and embeddings without input -> 400', async () => {
    const a = await post('/v1/completions', { model: 'chat' });
    expectOpenAIError(a, 400, 'invalid_request_error');
    expect(a.json.error.param).toBe('prompt');
    const b = await post('/v1/embeddings', { model: 'embed', input: 5 });
    expectOpenAIError(b, 400, 'invalid_request_error');
    expect(b.json.error.param).toBe('input');
    await expectRow(a.id, 400, 'invalid_request_error');
    const row = await expectRow(b.id, 400, 'invalid_request_error');
    expect(row.endpoint).toBe('embeddings');
  });

  it('stream not a boolean -> 400', async () => {
    const r = await post('/v1/chat/completions', chat('chat', { stream: 'yes' }));
    expectOpenAIError(r, 400, 'invalid_request_error');
    expect(r.json.error.param).toBe('stream');
  });

  it('a body over max_body_bytes (Content-Length) -> 413 and a row', async () => {
    const r = await post('/v1/chat/completions', chat('chat', { pad: 'x'.repeat(MAX_BODY) }));
    expectOpenAIError(r, 413, 'request_too_large');
    await expectRow(r.id, 413, 'request_too_large');
  });

  it('a chunked body that grows over the limit -> 413 without waiting for its end', async () => {
    const id = `chunked-${++seq}`;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      });
      req.on('error', reject);
      // Twice the limit, then the request is left open: the gateway must answer anyway.
      req.write('{"model":"chat","pad":"' + 'y'.repeat(MAX_BODY));
      req.write('y'.repeat(MAX_BODY));
    });
    expect(res.status).toBe(413);
    expectErrorBody(JSON.parse(res.body), 'request_too_large');
    await expectRow(id, 413, 'request_too_large');
  });

  it('the paths without /v1 work too', async () => {
    const r = await post('/chat/completions', chat('chat'));
    expect(r.status).toBe(200);
    await expectRow(r.id, 200, null);
  });
});

describe('auth', () => {
  it('missing bearer -> 401 and a row', async () => {
    const r = await post('/v1/chat/completions', chat('chat'), { auth: null });
    expectOpenAIError(r, 401, 'invalid_api_key');
    await expectRow(r.id, 401, 'invalid_api_key');
  });

  it('wrong bearer -> 401 and a row', async () => {
    for (const auth of [`Bearer ${KEY}x`, 'Bearer ', KEY, `Basic ${KEY}`]) {
      const r = await post('/v1/embeddings', { model: 'embed', input: 'a' }, { auth });
      expectOpenAIError(r, 401, 'invalid_api_key');
      await expectRow(r.id, 401, 'invalid_api_key');
    }
  });

  it('the bearer scheme is case-insensitive', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const r = await post('/v1/embeddings', { model: 'embed', input: 'a' }, { auth: `${scheme} ${KEY}` });
      expect(r.status, scheme).toBe(200);
    }
  });

  it('/v1/models, /budgets and /health/targets need the key; /health and /metrics do not', async () => {
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${gw.url}/budgets`)).status).toBe(401);
    // it probes every provider with its key: an operator endpoint
    expect((await fetch(`${gw.url}/health/targets`)).status).toBe(401);
    expect((await fetch(`${gw.url}/health/targets`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    const ok = await fetch(`${gw.url}/budgets`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(ok.status).toBe(200);
    expect(Array.isArray((await ok.json()).budgets)).toBe(true);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });
});

describe('unknown routes', () => {
  it('unknown path -> 404 OpenAI-shaped JSON, no row', async () => {
    const before = readUsageRows(home.runtimeDir).length;
    for (const [method, p] of [
      ['GET', '/v1/nope'],
      ['POST', '/v1/chat/completions/extra'],
      ['GET', '/'],
    ]) {
      const r = await fetch(`${gw.url}${p}`, { method, headers: { authorization: `Bearer ${KEY}` } });
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expectErrorBody(await r.json(), 'not_found');
    }
    expect(readUsageRows(home.runtimeDir).length).toBe(before);
  });

  it('unknown method on a known path -> 404 JSON', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method, headers: { authorization: `Bearer ${KEY}` } });
      expect(r.status).toBe(404);
      expect((await r.json()).error.message).toContain(method);
    }
    const r = await fetch(`${gw.url}/v1/models`, { method: 'POST' });
    expect(r.status).toBe(404);
  });
});

describe('upstream failures', () => {
  it('refused connection -> 502 upstream_error', async () => {
    const r = await post('/v1/chat/completions', chat('refused'));
    expectOpenAIError(r, 502, 'upstream_error');
    expect(r.json.error.message).toMatch(/ECONNREFUSED/);
    const row = await expectRow(r.id, 502, 'upstream_error');
    expect(row.provider).toBe('dead');
    expect(row.attempts).toBe(1);
  });

  it('5xx -> 502 upstream_error', async () => {
    const r = await post('/v1/chat/completions', chat('err500'));
    expectOpenAIError(r, 502, 'upstream_error');
    expect(r.json.error.message).toMatch(/HTTP 500/);
    await expectRow(r.id, 502, 'upstream_error');
  });

  it('429 -> 502 upstream_error', async () => {
    const r = await post('/v1/chat/completions', chat('err429'));
    expectOpenAIError(r, 502, 'upstream_error');
    expect(r.json.error.message).toMatch(/HTTP 429/);
    await expectRow(r.id, 502, 'upstream_error');
  });

  it('hang past the provider timeout -> 504 upstream_timeout', async () => {
    const r = await post('/v1/chat/completions', chat('hang'));
    expectOpenAIError(r, 504, 'upstream_timeout');
    const row = await expectRow(r.id, 504, 'upstream_timeout');
    expect(row.latency_ms).toBeGreaterThanOrEqual(900);
  });

  it('invalid JSON from upstream -> 502 upstream_error', async () => {
    const r = await post('/v1/chat/completions', chat('badjson'));
    expectOpenAIError(r, 502, 'upstream_error');
    expect(r.json.error.message).toMatch(/invalid JSON/);
    await expectRow(r.id, 502, 'upstream_error');
  });

  it('an upstream 4xx (not 429) is relayed as is, without fallback, and logged as upstream_error', async () => {
    const r = await post('/v1/chat/completions', chat('refuses'));
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('simulated bad request');
    const row = await expectRow(r.id, 400, 'upstream_error');
    expect(row.attempts).toBe(1);
    expect(sim.requests.some((q) => (q.body as any)?.model === 'never-tried')).toBe(false);
  });

  it('a stream cut mid-way: no fallback after the first byte, error event, error row', async () => {
    const r = await post('/v1/chat/completions', chat('cut', { stream: true }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(r.text).toContain('"content":"The"');
    expect(r.text).not.toContain('[DONE]');
    expect(r.text).toMatch(/data: \{"error":\{"message":"stream from sim broke mid-way/);
    // the error event speaks OpenAI too, and says what happened without undici's internal code
    const event = r.text.split('\n').find((l) => l.startsWith('data: {"error"'))!;
    expectErrorBody(JSON.parse(event.slice(6)), 'upstream_error');
    const row = await expectRow(r.id, 502, 'upstream_error');
    expect(row.attempts).toBe(1);
    expect(row.stream).toBe(1);
    // the second target was never called
    expect(sim.requests.some((q) => (q.body as any)?.model === 'after-cut')).toBe(false);
  });

  it('falls back past a refused connection and a 500 to the third target', async () => {
    const r = await post('/v1/chat/completions', chat('fallback'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-backend-model')).toBe('second');
    const row = await expectRow(r.id, 200, null);
    expect(row).toMatchObject({ provider: 'sim', concrete_model: 'second', attempts: 3 });
  });

  it('falls back for streams too when the failure is before the first byte', async () => {
    const r = await post('/v1/chat/completions', chat('fallback', { stream: true }));
    expect(r.status).toBe(200);
    expect(r.text).toContain('data: [DONE]');
    const row = await expectRow(r.id, 200, null);
    expect(row.attempts).toBe(3);
    expect(row.completion_tokens).toBe(8);
  });
});

describe('client disconnects', () => {
  it('mid-stream: the upstream request is closed and the row says client_closed', async () => {
    const id = `disc-${++seq}`;
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
    });
    const firstChunk = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => res.once('data', () => resolve()));
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    });
    // 200 words every 200 ms: 40 s if nobody stopped it.
    req.end(JSON.stringify(chat('slow', { stream: true, max_tokens: 200 })));
    await firstChunk;
    const upstream = sim.requests.find((q) => (q.body as any)?.model === 's@slow' && !q.closedAt)!;
    expect(upstream).toBeDefined();
    const hungUpAt = Date.now();
    req.destroy();
    await waitFor(() => upstream.closedEarly, 'the upstream request to be closed', 5000);
    expect(upstream.completed).toBe(false);
    // Issue 3 asks for the upstream connection closed within 1 s of the client leaving; it takes
    // milliseconds, so the bound is the contract itself, not a tuned timing.
    expect(upstream.closedAt! - hungUpAt).toBeLessThan(1000);
    const row = await expectRow(id, 499, 'client_closed');
    expect(row.stream).toBe(1);
  });

  it('mid-body: the row says client_closed and nothing goes upstream', async () => {
    const id = `disc-${++seq}`;
    const before = sim.requests.length;
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id, 'content-length': '1000' },
    });
    req.on('error', () => {});
    req.write('{"model":"chat","messages":[');
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await expectRow(id, 499, 'client_closed');
    expect(sim.requests.length).toBe(before);
  });

  it('before the answer (non-streamed): upstream aborted, client_closed', async () => {
    const id = `disc-${++seq}`;
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
    });
    req.on('error', () => {});
    req.end(JSON.stringify(chat('hang')));
    const upstream = await waitFor(
      () => sim.requests.find((q) => (q.body as any)?.model === 'h@hang' && !q.closedAt),
      'the hanging upstream request',
    );
    req.destroy();
    await waitFor(() => upstream.closedEarly, 'the upstream request to be closed', 5000);
    await expectRow(id, 499, 'client_closed');
  });
});

describe('usage log', () => {
  it('a reader holding the SQLite file open does not stop rows being written', async () => {
    const db = new Database(path.join(home.runtimeDir, 'usage', 'llm_usage.db'), { readonly: true });
    try {
      db.exec('BEGIN');
      const before = (db.prepare('SELECT count(*) AS n FROM llm_usage').get() as { n: number }).n;
      const ids = [];
      for (let i = 0; i < 3; i++) {
        const r = await post('/v1/chat/completions', chat('chat'));
        expect(r.status).toBe(200);
        ids.push(r.id);
      }
      // the reader's snapshot is stable while the writer goes on
      expect((db.prepare('SELECT count(*) AS n FROM llm_usage').get() as { n: number }).n).toBe(before);
      for (const id of ids) await expectRow(id, 200, null);
      db.exec('COMMIT');
    } finally {
      db.close();
    }
  });
});

describe('health and logs', () => {
  it('/health/targets reports the dead provider and its targets as down', async () => {
    const j = await (await fetch(`${gw.url}/health/targets`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    const dead = j.providers.find((p: any) => p.provider === 'dead');
    expect(dead).toMatchObject({ ok: false, status: null });
    expect(dead.error).toMatch(/ECONNREFUSED/);
    expect(j.providers.find((p: any) => p.provider === 'sim')).toMatchObject({ ok: true, status: 200 });
    expect(j.targets.find((t: any) => t.model === 'refused')).toMatchObject({ provider: 'dead', ok: false });
    expect(j.targets.find((t: any) => t.model === 'chat')).toMatchObject({ provider: 'sim', ok: true });
  });

  it('stderr is JSON lines with request ids and never the prompt text or the master key', async () => {
    const secretPrompt = 'purple-elephant-prompt-text';
    const r = await post('/v1/chat/completions', { model: 'err500', messages: [{ role: 'user', content: secretPrompt }] });
    expect(r.status).toBe(502);
    // The failed attempt is logged first; the request's own line comes when its row is written.
    const line = await waitFor(
      () => gw.logLines().find((l) => l.request_id === r.id && l.event === 'request_error'),
      'the request_error line for the request',
    );
    const text = gw.stderr();
    expect(text).not.toContain(secretPrompt);
    expect(text).not.toContain('hello there');
    expect(text).not.toContain(KEY);
    for (const l of text.trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    expect(line).toMatchObject({ level: 'warn', http_status: 502, error_type: 'upstream_error', model: 'err500' });
  });
});

describe('port and socket behaviour', () => {
  it('keeps the upstream connection alive across requests', async () => {
    await post('/v1/chat/completions', chat('chat'));
    const before = await sim.connections();
    for (let i = 0; i < 5; i++) await post('/v1/chat/completions', chat('chat'));
    expect(await sim.connections()).toBeLessThanOrEqual(Math.max(before, 1) + 1);
  });

  it('an idle raw socket does not hold up other requests', async () => {
    const s = net.connect(gw.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const r = await post('/v1/chat/completions', chat('chat'));
    expect(r.status).toBe(200);
    s.destroy();
  });
});
