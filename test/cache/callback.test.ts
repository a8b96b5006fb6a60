// The cache callback on real contexts (README, "Budgets, guardrails and cache"): miss -> capture -> store -> hit, streaming
// hits as SSE, Cache-Control, secrets never stored, and a dir that cannot be written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheCallback } from '../../src/gateway/callbacks/cache.js';
import { GuardrailsCallback } from '../../src/gateway/callbacks/guardrails.js';
import { harness, mappings, metricValue, PROVIDERS, type Harness } from '../helpers/callbacks.js';
import { makeContext, succeed } from '../helpers/context.js';
import { POSITIVE } from '../helpers/secret-samples.js';

let h: Harness | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
});

const ANSWER = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'cached answer' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
});

const body = (extra: Record<string, unknown> = {}) => ({ model: 'chat-paid', messages: [{ role: 'user', content: 'same question' }], ...extra });

function setup(gateway: Record<string, unknown> = { cache: { enabled: true } }, env: Record<string, string> = {}) {
  h = harness({ providers: PROVIDERS, mappings: mappings(), gateway }, env);
  return { h, cb: new CacheCallback(h.deps) };
}

function cacheFiles(h: Harness): string[] {
  const dir = h.config().paths.cacheDir;
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

/** One request through the callback; on a miss the "upstream" answers with ANSWER, a hit is recorded as the server does. */
async function roundTrip(h: Harness, cb: CacheCallback, b: Record<string, unknown>, headers: Record<string, string> = {}) {
  const ctx = makeContext(h.config(), b, { headers });
  await cb.onRequest(ctx);
  if (ctx.shortCircuit) ctx.answeredFromShortCircuit(ctx.shortCircuit);
  else {
    succeed(ctx, 0.01);
    ctx.usage = { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 };
    if (ctx.captureResponse) ctx.capturedBody = ANSWER;
  }
  cb.onSuccess(ctx);
  return ctx;
}

async function waitFor(cond: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('CacheCallback', () => {
  it('the same request twice: a miss that is stored, then a hit answered without upstream', async () => {
    const { h, cb } = setup();
    const first = await roundTrip(h, cb, body());
    expect(first.responseHeaders['x-backend-cache']).toBe('miss');
    expect(first.captureResponse).toBe(true);
    await waitFor(() => cacheFiles(h).length === 1);
    const second = await roundTrip(h, cb, body({ user: 'someone-else' }));
    expect(second.responseHeaders['x-backend-cache']).toBe('hit');
    expect(second.cacheHit).toBe(true);
    expect(second.shortCircuit).toMatchObject({ body: ANSWER, answeredBy: { provider: 'paid', model: 'm' }, usage: { total_tokens: 4 } });
    expect(await metricValue(h, 'backend_llm_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(await metricValue(h, 'backend_llm_cache_requests_total', { result: 'hit' })).toBe(1);
  });

  it('the same request right after the first answer is a hit, before the entry is on disk', async () => {
    const { h, cb } = setup();
    await roundTrip(h, cb, body());
    // no wait for the file: the next identical request arrives at once
    const second = await roundTrip(h, cb, body());
    expect(second.responseHeaders['x-backend-cache']).toBe('hit');
    expect(second.shortCircuit?.body).toBe(ANSWER);
  });

  it('a streaming request hits the entry as SSE events; usage only when asked for', async () => {
    const { h, cb } = setup();
    await roundTrip(h, cb, body());
    await waitFor(() => cacheFiles(h).length === 1);
    const s = await roundTrip(h, cb, body({ stream: true }));
    expect(s.shortCircuit?.body).toBeUndefined();
    const events = s.shortCircuit!.sseEvents!;
    expect(events.map((e) => JSON.parse(e).choices[0]?.delta?.content ?? null)).toEqual(['cached answer', null]);
    const u = await roundTrip(h, cb, body({ stream: true, stream_options: { include_usage: true } }));
    expect(JSON.parse(u.shortCircuit!.sseEvents!.at(-1)!).usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
  });

  it('a streamed response is stored once assembled and then answers a plain request', async () => {
    const { h, cb } = setup();
    const ctx = makeContext(h.config(), body({ stream: true }));
    await cb.onRequest(ctx);
    succeed(ctx, 0.01);
    const chunk = (o: object) => JSON.stringify({ id: 's1', object: 'chat.completion.chunk', created: 5, model: 'm', ...o });
    ctx.capturedEvents = [
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'streamed ' } }] }),
      chunk({ choices: [{ index: 0, delta: { content: 'answer' }, finish_reason: 'stop' }] }),
    ];
    cb.onSuccess(ctx);
    await waitFor(() => cacheFiles(h).length === 1);
    const plain = await roundTrip(h, cb, body());
    expect(JSON.parse(plain.shortCircuit!.body!).choices[0].message.content).toBe('streamed answer');
  });

  it('Cache-Control: no-cache skips the lookup (but stores), no-store skips the write', async () => {
    const { h, cb } = setup();
    const a = await roundTrip(h, cb, body(), { 'cache-control': 'no-store' });
    expect(a.captureResponse).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(cacheFiles(h)).toEqual([]);
    await roundTrip(h, cb, body());
    await waitFor(() => cacheFiles(h).length === 1);
    const b = await roundTrip(h, cb, body(), { 'cache-control': 'max-age=0, No-Cache' });
    expect(b.shortCircuit).toBeNull();
    expect(b.responseHeaders['x-backend-cache']).toBe('miss');
    expect((await roundTrip(h, cb, body())).responseHeaders['x-backend-cache']).toBe('hit');
  });

  it('errors are not stored', async () => {
    const { h, cb } = setup();
    const ctx = makeContext(h.config(), body());
    await cb.onRequest(ctx);
    ctx.httpStatus = 502;
    cb.onError(ctx);
    cb.onSuccess(ctx); // even if it were called, a non-2xx is not stored
    await new Promise((r) => setTimeout(r, 50));
    expect(cacheFiles(h)).toEqual([]);
  });

  it('a request that still carries a secret (guardrails warn) is never stored', async () => {
    const { h, cb } = setup({ cache: { enabled: true }, guardrails: { secrets: { action: 'warn' } } });
    const guard = new GuardrailsCallback(h.deps);
    const secret = POSITIVE.github[0];
    const ctx = makeContext(h.config(), body({ messages: [{ role: 'user', content: `token ${secret}` }] }));
    guard.onRequest(ctx);
    await cb.onRequest(ctx);
    succeed(ctx, 0);
    ctx.capturedBody = JSON.stringify({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: `you sent ${secret}` } }] });
    cb.onSuccess(ctx);
    await new Promise((r) => setTimeout(r, 50));
    expect(cacheFiles(h)).toEqual([]);
  });

  it('off by default; AI_BACKEND_ENABLE_CACHE=true turns it on', async () => {
    const off = setup({});
    const ctx = await roundTrip(off.h, off.cb, body());
    expect(ctx.responseHeaders['x-backend-cache']).toBeUndefined();
    expect(ctx.captureResponse).toBe(false);
    off.h.close();
    const on = setup({}, { AI_BACKEND_ENABLE_CACHE: 'true' });
    expect((await roundTrip(on.h, on.cb, body())).responseHeaders['x-backend-cache']).toBe('miss');
  });

  it('a cache dir that cannot be written turns the cache off with a warning; requests go on', async () => {
    const blocker = path.join(os.tmpdir(), `ptui-not-a-dir-${process.pid}`);
    fs.writeFileSync(blocker, '');
    try {
      const { h, cb } = setup({ cache: { enabled: true } }, { AI_BACKEND_CACHE_DIR: path.join(blocker, 'cache') });
      expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', event: 'cache_disabled' }));
      const ctx = await roundTrip(h, cb, body());
      expect(ctx.shortCircuit).toBeNull();
      expect(ctx.responseHeaders['x-backend-cache']).toBeUndefined();
    } finally {
      fs.rmSync(blocker, { force: true });
    }
  });
});
