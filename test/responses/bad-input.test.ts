// Hostile and unsupported /v1/responses requests against the real gateway: each gets a clear
// 400 (or 404) naming the field, reaches no upstream, and leaves exactly one row; a stream that
// breaks mid-way ends with an `error` event and one error row; model ids with `..` or `%2F`.
import http from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUsageRows } from '../helpers/gateway.js';
import { MASTER_KEY, startResponsesFixture, type ResponsesFixture } from '../helpers/responses.js';

let f: ResponsesFixture;
let client: OpenAI;

beforeAll(async () => {
  f = await startResponsesFixture();
  client = new OpenAI({ baseURL: f.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

const upstreamCalls = () => f.llmCalls();

/** POSTs raw body text (so numbers like 1e309 reach the gateway as written). */
async function post(path: string, text: string) {
  const r = await fetch(`${f.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
    body: text,
  });
  return { status: r.status, requestId: r.headers.get('x-request-id')!, body: await r.text() };
}

/** A GET with the path exactly as written: fetch would resolve `..` before sending. */
function rawGet(path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: f.gw.port, path, method: 'GET', headers: { authorization: `Bearer ${MASTER_KEY}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET = `sk-proj-${'Ab3dEf9hIj'.repeat(5)}`;

const REJECTED: Array<[string, Record<string, unknown>, number, string, string, string]> = [
  ['an input item of an unknown type', { input: [{ type: 'computer_call_output', call_id: 'c1' }] }, 400, 'invalid_request_error', 'input[0].type', 'unknown input item type'],
  [
    'a function-call output without its call',
    { input: [{ role: 'user', content: 'hi' }, { type: 'function_call_output', call_id: 'call_missing', output: '42' }] },
    400,
    'invalid_request_error',
    'input[1].call_id',
    'has no function_call with that call_id',
  ],
  ['previous_response_id', { input: 'hi', previous_response_id: 'resp_123' }, 400, 'invalid_request_error', 'previous_response_id', 'keeps no conversations'],
  ['store: true', { input: 'hi', store: true }, 400, 'invalid_request_error', 'store', 'keeps no conversations'],
  ['background mode', { input: 'hi', background: true }, 400, 'invalid_request_error', 'background', 'keeps no conversations'],
  ['a built-in tool', { input: 'hi', tools: [{ type: 'web_search' }] }, 400, 'invalid_request_error', 'tools[0].type', 'runs no built-in tools'],
  ['an item_reference', { input: [{ type: 'item_reference', id: 'msg_1' }] }, 400, 'invalid_request_error', 'input[0].type', 'needs stored items'],
  ['no input', {}, 400, 'invalid_request_error', 'input', 'missing required field "input"'],
  ['instructions holding a secret', { input: 'hi', instructions: `use the key ${SECRET}` }, 400, 'guardrail_violation', '', 'looks like a secret'],
  ['a function call output holding a secret', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: SECRET }] }, 400, 'guardrail_violation', '', 'looks like a secret'],
];

describe('rejected requests: a clear error, nothing upstream, one row', () => {
  it.each(REJECTED)('%s', async (_name, fields, status, code, param, says) => {
    const before = upstreamCalls();
    for (const model of ['native', 'translated']) {
      const r = await post('/v1/responses', JSON.stringify({ model, ...fields }));
      expect(r.status).toBe(status);
      const err = JSON.parse(r.body).error;
      expect(err.code).toBe(code);
      if (param) expect(err.param).toBe(param);
      expect(err.message).toContain(says);
      expect(r.body).not.toContain(SECRET);
      const row = await f.rowFor(r.requestId);
      expect(row).toMatchObject({ endpoint: 'responses', status: 'error', http_status: status, error_type: code, logical_model: model });
      expect(readUsageRows(f.home.runtimeDir).filter((x) => x.request_id === r.requestId)).toHaveLength(1);
    }
    expect(upstreamCalls()).toBe(before);
  });

  it('max_output_tokens: 1e309 is a 400 naming the field, not an Infinity reservation', async () => {
    const r = await post('/v1/responses', '{"model":"native","input":"hi","max_output_tokens":1e309}');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.param).toBe('max_output_tokens');
    expect(await f.rowFor(r.requestId)).toMatchObject({ endpoint: 'responses', error_type: 'invalid_request_error' });
  });

  it('the openai SDK raises typed errors for them', async () => {
    const err = await client.responses.create({ model: 'native', input: 'hi', previous_response_id: 'resp_1' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('previous_response_id');
    const missing = await client.responses.create({ model: 'no-such-model', input: 'hi' }).catch((e) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.code).toBe('model_not_found');
  });
});

describe('an upstream stream that is not JSON', () => {
  it('is a 502 before anything reached the client, with one row', async () => {
    const r = await post('/v1/responses', JSON.stringify({ model: 'translated-badjson', input: 'hi', stream: true }));
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe('upstream_error');
    const row = await f.rowFor(r.requestId);
    expect(row).toMatchObject({ endpoint: 'responses', status: 'error', http_status: 502 });
    expect(row.error_message).toContain('not valid JSON');
  });
});

describe('a provider taken to serve the Responses API that does not', () => {
  it("gets its 404 passed through, and the row says what to set", async () => {
    const r = await post('/v1/responses', JSON.stringify({ model: 'misconfigured', input: 'hi' }));
    expect(r.status).toBe(404);
    const row = await f.rowFor(r.requestId);
    expect(row).toMatchObject({ endpoint: 'responses', status: 'error', http_status: 404, provider: 'chat-only-native' });
    expect(row.error_message).toContain('set its responses: translate');
  });
});

describe('a responses stream whose upstream breaks mid-way', () => {
  it.each(['native-cut', 'translated-cut'])('%s: text so far, then an error event; one error row', async (model) => {
    const r = await post('/v1/responses', JSON.stringify({ model, input: 'hi', stream: true, max_output_tokens: 6 }));
    expect(r.status).toBe(200);
    const frames = r.body.split('\n\n').filter(Boolean);
    const types = frames.map((fr) => /^event: (.+)$/m.exec(fr)?.[1]);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types).toContain('response.output_text.delta');
    expect(types).not.toContain('response.completed');
    expect(types.at(-1)).toBe('error');
    const last = JSON.parse(frames.at(-1)!.split('\ndata: ')[1]);
    expect(last).toMatchObject({ type: 'error', code: 'upstream_error', sequence_number: frames.length - 1 });
    await f.rowFor(r.requestId);
    const rows = readUsageRows(f.home.runtimeDir).filter((x) => x.request_id === r.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ endpoint: 'responses', stream: 1, status: 'error', http_status: 502, error_type: 'upstream_error' });
  });

  it("the openai SDK hands the error event to the caller, as OpenAI's own stream errors", async () => {
    const stream = await client.responses.create({ model: 'translated-cut', input: 'hi', stream: true, max_output_tokens: 6 });
    const seen: any[] = [];
    for await (const ev of stream) seen.push(ev);
    expect(seen.map((e) => e.type)).toContain('response.output_text.delta');
    expect(seen.at(-1)).toMatchObject({ type: 'error', code: 'upstream_error' });
  });
});

describe('GET /v1/models/{id} with hostile ids', () => {
  it.each([
    ['/v1/models/..', '..'],
    ['/v1/models/../models', '../models'],
    ['/v1/models/..%2F..%2Fhealth', '../../health'],
    ['/v1/models/%2e%2e', '..'],
    ['/v1/models/__proto__', '__proto__'],
    ['/v1/models/%E0%A4%A', '%E0%A4%A'],
  ])('%s is a 404 model_not_found, nothing else', async (path, id) => {
    const r = await rawGet(path);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('model_not_found');
    expect(r.body.error.message).toContain(JSON.stringify(id).slice(1, -1));
  });

  it('%2F and a literal slash name the same model', async () => {
    for (const path of ['/v1/models/meta-llama%2FLlama-3.1-8B-Instruct', '/v1/models/meta-llama/Llama-3.1-8B-Instruct', '/models/meta-llama%2fLlama-3.1-8B-Instruct']) {
      const r = await rawGet(path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: 'meta-llama/Llama-3.1-8B-Instruct', object: 'model' });
    }
  });

  it('needs the master key like /v1/models', async () => {
    const r = await fetch(`${f.gw.url}/v1/models/native`);
    expect(r.status).toBe(401);
  });
});
