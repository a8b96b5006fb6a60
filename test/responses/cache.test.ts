// The response cache on /v1/responses: keyed on the request (so a streamed and a plain request
// for the same thing share an entry), a hit answered without an upstream call, and a hit replayed
// to a streaming client as the full Responses event sequence.
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/gateway.js';
import { MASTER_KEY, SIM_TEXT, startResponsesFixture, type ResponsesFixture } from '../helpers/responses.js';

let f: ResponsesFixture;
let client: OpenAI;

beforeAll(async () => {
  f = await startResponsesFixture({ cache: { enabled: true } });
  client = new OpenAI({ baseURL: f.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
}, 60_000);

const llmCalls = () => f.llmCalls();

/** Entries on disk in the gateway's cache dir. */
const entries = () => {
  const dir = path.join(f.home.home, '.litellm_cache');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')).length : 0;
};

afterAll(async () => {
  await f?.close();
});

describe.each(['native', 'translated'])('responses cache, model %s', (model) => {
  it('a streamed answer is stored; the same request, plain, is a hit with the same answer', async () => {
    const input = `cache me ${model}`;
    const calls = llmCalls();
    const entriesBefore = entries();
    const { data: stream, response } = await client.responses.create({ model, input, stream: true }).withResponse();
    expect(response.headers.get('x-backend-cache')).toBe('miss');
    let first: any = null;
    for await (const ev of stream) if (ev.type === 'response.completed') first = ev.response;
    // the entry is written after the answer has gone out
    await waitFor(() => entries() === entriesBefore + 1, 'the cache entry');
    const hit = await client.responses.create({ model, input }).withResponse();
    expect(hit.response.headers.get('x-backend-cache')).toBe('hit');
    expect(hit.data.output_text).toBe(SIM_TEXT);
    expect(hit.data.id).toBe(first.id);
    expect(hit.data.usage).toEqual(first.usage);
    const row = await f.rowFor(hit.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'responses', cache_hit: 1, status: 'success', cost_usd: 0 });

    // and replayed as a stream: the whole event sequence, from the stored response
    const upstreamBefore = llmCalls();
    const { data: again } = await client.responses.create({ model, input, stream: true }).withResponse();
    const types: string[] = [];
    let text = '';
    let done: any = null;
    for await (const ev of again) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') done = ev.response;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_item.done');
    expect(text).toBe(SIM_TEXT);
    expect(done.usage).toMatchObject({ input_tokens: first.usage.input_tokens, output_tokens: first.usage.output_tokens });
    expect(llmCalls()).toBe(upstreamBefore);
    expect(upstreamBefore).toBe(calls + 1);
  });
});
