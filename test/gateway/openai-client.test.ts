// Done-means 1: the official openai client works through the gateway, changed only in baseURL,
// and each call leaves one success row with the sim's deterministic usage.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { type GatewayChild, readUsageRows, TestGateways, waitFor } from '../helpers/gateway.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimUpstream();
  home = gateways.simHome(sim.url, {
    models: {
      chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1, output_usd_per_1m: 2 } }] },
      embed: { capability: 'embeddings', targets: [{ provider: 'sim', model: 'sim-embed' }] },
    },
    gateway: { master_key: 'test-master-key' },
  });
  gw = await gateways.start(home);
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test-master-key', maxRetries: 0 });
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

describe('openai npm client through the gateway', () => {
  it('chats without streaming, with usage and the concrete model sent upstream', async () => {
    const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'one two three' }] });
    expect(r.choices[0].message.content).toBe('The simulated upstream answers with these fixed words');
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 });
    const sent = sim.requests.at(-1)!;
    expect((sent.body as any).model).toBe('sim-model');
    expect(sent.path).toBe('/v1/chat/completions');
  });

  it('chats streaming: chunks arrive, no usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('The simulated upstream answers with these fixed words');
    expect(usageChunks).toBe(0);
    // the gateway asked upstream for usage anyway
    expect((sim.requests.at(-1)!.body as any).stream_options).toEqual({ include_usage: true });
  });

  it('streams the usage chunk when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'a b' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toEqual([{ prompt_tokens: 2, completion_tokens: 8, total_tokens: 10 }]);
  });

  it('completes', async () => {
    const r = await client.completions.create({ model: 'chat', prompt: 'say something', max_tokens: 3 });
    expect(r.choices[0].text).toBe('The simulated upstream');
    expect(r.usage?.completion_tokens).toBe(3);
  });

  it('embeds', async () => {
    const r = await client.embeddings.create({ model: 'embed', input: ['alpha beta', 'gamma'] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0].embedding).toHaveLength(8);
    expect(r.usage.prompt_tokens).toBe(3);
  });

  it('lists the logical models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids.sort()).toEqual(['chat', 'embed']);
  });

  it('left one success row per LLM call, with tokens, cost and ttft for streams', async () => {
    const rows = await waitFor(() => {
      const r = readUsageRows(home.runtimeDir);
      return r.length >= 5 ? r : undefined;
    }, '5 usage rows');
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => [r.endpoint, r.stream, r.status, r.http_status])).toEqual([
      ['chat', 0, 'success', 200],
      ['chat', 1, 'success', 200],
      ['chat', 1, 'success', 200],
      ['completions', 0, 'success', 200],
      ['embeddings', 0, 'success', 200],
    ]);
    const first = rows[0];
    expect(first).toMatchObject({ provider: 'sim', logical_model: 'chat', concrete_model: 'sim-model', capability: 'chat', attempts: 1 });
    expect(first.prompt_tokens).toBe(3);
    expect(first.cost_usd).toBeCloseTo((3 * 1 + 8 * 2) / 1e6, 12);
    // streamed rows carry usage even though the client never saw the usage chunk
    expect(rows[1].completion_tokens).toBe(8);
    expect(rows[1].ttft_ms).toBeGreaterThanOrEqual(0);
    expect(rows[0].ttft_ms).toBeNull();
  });

  it('sets the response headers', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-master-key', 'content-type': 'application/json', 'x-request-id': 'my-req-1' },
      body: JSON.stringify({ model: 'chat', messages: [] }),
    });
    await r.json();
    expect(r.headers.get('x-request-id')).toBe('my-req-1');
    expect(r.headers.get('x-backend-provider')).toBe('sim');
    expect(r.headers.get('x-backend-model')).toBe('sim-model');
    expect(Number(r.headers.get('x-backend-overhead-ms'))).toBeGreaterThanOrEqual(0);
  });
});
