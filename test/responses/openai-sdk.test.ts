// POST /v1/responses and GET /v1/models/{id} through the real gateway with the official openai
// client, changed only in baseURL: against a provider that serves the Responses API (passed
// through) and against chat-only ones (translated), streamed and not, with tools; each request
// leaves one row whose tokens are exactly the usage the client was shown.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimUpstream } from '../../src/sim/upstream.js';
import { llmCallsOf, MASTER_KEY, SIM_TEXT, startResponsesFixture, WEATHER_TOOL, type ResponsesFixture } from '../helpers/responses.js';

let f: ResponsesFixture;
let client: OpenAI;

beforeAll(async () => {
  f = await startResponsesFixture();
  client = new OpenAI({ baseURL: f.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

const lastCall = (sim: SimUpstream) => llmCallsOf(sim).at(-1)!;

const TEXT_EVENTS = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  ...Array(8).fill('response.output_text.delta'),
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

async function streamed(model: string, extra: Record<string, unknown> = {}) {
  const { data: stream, request_id } = await client.responses
    .create({ model, input: 'one two three', stream: true, ...extra } as OpenAI.Responses.ResponseCreateParamsStreaming)
    .withResponse();
  const events: any[] = [];
  for await (const ev of stream) events.push(ev);
  return { events, requestId: request_id! };
}

describe.each([
  ['native', 'passed through to a provider that serves the Responses API', 'sim'],
  ['translated', 'translated to chat completions for a chat-only provider', 'chat-only'],
  ['ollama', 'translated by default for type ollama', 'local'],
])('responses, model %s (%s)', (model, _how, provider) => {
  it('non-streamed: the answer, its usage, and the same usage in one row', async () => {
    const { data: r, request_id } = await client.responses.create({ model, instructions: 'be brief', input: 'one two three' }).withResponse();
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe(SIM_TEXT);
    expect(r.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    // "be brief" (2) + "one two three" (3): the sim counts words
    expect(r.usage).toMatchObject({ input_tokens: 5, output_tokens: 8, total_tokens: 13 });
    const row = await f.rowFor(request_id!);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 0, status: 'success', http_status: 200, provider, logical_model: model });
    expect([row.prompt_tokens, row.completion_tokens, row.total_tokens]).toEqual([5, 8, 13]);
  });

  it('streamed: the Responses event sequence, numbered from 0, usage from response.completed in the row', async () => {
    const { events, requestId } = await streamed(model);
    expect(events.map((e) => e.type)).toEqual(TEXT_EVENTS);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.map((e) => e.delta).join('')).toBe(SIM_TEXT);
    expect(new Set(deltas.map((e) => e.item_id)).size).toBe(1);
    const done = events.at(-1);
    expect(done.response.output[0].content[0].text).toBe(SIM_TEXT);
    expect(done.response.usage).toMatchObject({ input_tokens: 3, output_tokens: 8 });
    const row = await f.rowFor(requestId);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 1, status: 'success', provider });
    expect([row.prompt_tokens, row.completion_tokens]).toEqual([3, 8]);
    expect(row.cost_usd).toBeCloseTo(provider === 'local' ? 0 : (3 * 1 + 8 * 2) / 1e6, 12);
  });

  it('the SDK stream helper assembles the final response', async () => {
    const stream = client.responses.stream({ model, input: 'hi there' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(SIM_TEXT);
    expect(final.usage?.input_tokens).toBe(2);
  });

  it('tool calls: a function call, then its output in the next request gets the answer', async () => {
    const first = await client.responses.create({ model, input: 'weather in Paris?', tools: [WEATHER_TOOL] });
    const call = first.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'sim' });
    const second = await client.responses.create({
      model,
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ],
    });
    expect(second.output_text).toBe(SIM_TEXT);
  });

  it('tool calls streamed: output_item.added, argument deltas, .done, with the whole arguments', async () => {
    const { events } = await streamed(model, { tools: [WEATHER_TOOL] });
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const args = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    expect(JSON.parse(args)).toEqual({ city: 'sim' });
    expect(events[5]).toMatchObject({ name: 'get_weather', arguments: args });
    expect(events.at(-1).response.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: args });
  });
});

describe('what reaches each provider', () => {
  it('a native provider gets the Responses request with the concrete model; a chat-only one gets chat completions', async () => {
    await client.responses.create({ model: 'native', instructions: 'sys', input: 'x', max_output_tokens: 3, tools: [WEATHER_TOOL] });
    const n = lastCall(f.native);
    expect(n.path).toBe('/v1/responses');
    expect(n.body).toMatchObject({ model: 'sim-model', instructions: 'sys', input: 'x', max_output_tokens: 3 });
    await client.responses.create({ model: 'translated', instructions: 'sys', input: 'x', max_output_tokens: 3, temperature: 0.5, tools: [WEATHER_TOOL] });
    const c = lastCall(f.chatOnly);
    expect(c.path).toBe('/v1/chat/completions');
    expect(c.body).toEqual({
      model: 'sim-model',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'x' },
      ],
      temperature: 0.5,
      max_tokens: 3,
      tools: [{ type: 'function', function: { name: 'get_weather', description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters, strict: true } }],
    });
  });

  it('image input items become image_url parts', async () => {
    await client.responses.create({
      model: 'translated',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'what is this' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] }],
    });
    expect((lastCall(f.chatOnly).body as any).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
    ]);
  });
});

describe('models.retrieve', () => {
  it('returns one logical model in OpenAI shape, also with a slash in its id', async () => {
    expect(await client.models.retrieve('native')).toMatchObject({ id: 'native', object: 'model', owned_by: 'ptui' });
    // the SDK sends meta-llama%2FLlama-3.1-8B-Instruct
    expect((await client.models.retrieve('meta-llama/Llama-3.1-8B-Instruct')).id).toBe('meta-llama/Llama-3.1-8B-Instruct');
  });

  it('an unknown id is a typed 404 model_not_found', async () => {
    const err = await client.models.retrieve('gpt-9').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain('gpt-9');
  });
});
