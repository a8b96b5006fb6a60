// The default code paths of two more SDKs, pointed at the gateway by base URL alone, both call
// POST /v1/responses: the Vercel AI SDK's OpenAI provider (`createOpenAI({ baseURL })('model')`)
// and LangChain's ChatOpenAI with `useResponsesApi: true`. Plain, streamed and with tools,
// against a provider that serves the Responses API and a chat-only one; usage exact in the row.
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUsageRows, waitFor } from '../helpers/gateway.js';
import { MASTER_KEY, SIM_TEXT, startResponsesFixture, WEATHER_TOOL, type ResponsesFixture } from '../helpers/responses.js';

let f: ResponsesFixture;

beforeAll(async () => {
  f = await startResponsesFixture();
}, 60_000);

afterAll(async () => {
  await f?.close();
});

// Each test sends its own x-request-id (the gateway keeps a client's id), so it finds its rows
// even when an earlier test's row is still being written.
let seq = 0;
const nextId = () => `sdk-test-${process.pid}-${++seq}`;

/** The rows of one request id, once there are `n` of them. */
function rowsOf(id: string, n = 1) {
  return waitFor(() => {
    const rows = readUsageRows(f.home.runtimeDir).filter((r) => r.request_id === id);
    return rows.length >= n ? rows : undefined;
  }, `${n} rows of ${id}`);
}

const weather = tool({
  description: WEATHER_TOOL.description,
  inputSchema: jsonSchema<{ city: string }>(WEATHER_TOOL.parameters as any),
  execute: async ({ city }) => `sunny in ${city}`,
});

describe.each(['native', 'translated'])('Vercel AI SDK, model %s', (model) => {
  const openai = (id = nextId()) => createOpenAI({ baseURL: f.baseURL, apiKey: MASTER_KEY, headers: { 'x-request-id': id } });

  it('generateText: the text, the usage, and the same usage in the row', async () => {
    const id = nextId();
    const r = await generateText({ model: openai(id)(model), system: 'be brief', prompt: 'one two three', maxRetries: 0 });
    expect(r.text).toBe(SIM_TEXT);
    expect(r.usage).toMatchObject({ inputTokens: 5, outputTokens: 8, totalTokens: 13 });
    const [row] = await rowsOf(id);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 0, status: 'success', logical_model: model, prompt_tokens: 5, completion_tokens: 8 });
  });

  it('streamText: the deltas, the usage from response.completed, one row', async () => {
    const id = nextId();
    const r = streamText({ model: openai(id)(model), prompt: 'one two', maxRetries: 0 });
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(SIM_TEXT);
    expect(await r.usage).toMatchObject({ inputTokens: 2, outputTokens: 8 });
    const [row] = await rowsOf(id);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 1, status: 'success', prompt_tokens: 2, completion_tokens: 8 });
  });

  it('a tool loop: the call, its output sent back, then the answer (two rows)', async () => {
    const id = nextId();
    const r = await generateText({ model: openai(id)(model), prompt: 'weather in Paris?', tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
    expect(r.steps).toHaveLength(2);
    expect(r.steps[0].toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { city: 'sim' } });
    expect(r.steps[0].toolResults[0]).toMatchObject({ output: 'sunny in sim' });
    expect(r.text).toBe(SIM_TEXT);
    // both steps carry the provider's headers, so both rows have this id
    const rows = await rowsOf(id, 2);
    expect(rows.map((x) => x.status)).toEqual(['success', 'success']);
  });

  it('a tool call streamed', async () => {
    const r = streamText({ model: openai()(model), prompt: 'weather?', tools: { get_weather: weather }, maxRetries: 0 });
    const calls: unknown[] = [];
    for await (const part of r.fullStream) if (part.type === 'tool-call') calls.push(part.input);
    expect(calls).toEqual([{ city: 'sim' }]);
  });

  it('an unknown model is an APICallError with the 404 and model_not_found', async () => {
    const err = await generateText({ model: openai()('no-such-model'), prompt: 'hi', maxRetries: 0 }).catch((e) => e);
    expect(APICallError.isInstance(err)).toBe(true);
    expect(err.statusCode).toBe(404);
    expect(JSON.parse(err.responseBody).error.code).toBe('model_not_found');
  });
});

describe.each(['native', 'translated'])('LangChain ChatOpenAI with useResponsesApi, model %s', (model) => {
  const chat = (id = nextId(), name = model) =>
    new ChatOpenAI({ model: name, useResponsesApi: true, apiKey: MASTER_KEY, configuration: { baseURL: f.baseURL, defaultHeaders: { 'x-request-id': id } }, maxRetries: 0 });

  it('invoke: the text and usage, matching the row', async () => {
    const id = nextId();
    const msg = await chat(id).invoke('one two three');
    expect(msg.text).toBe(SIM_TEXT);
    expect(msg.usage_metadata).toMatchObject({ input_tokens: 3, output_tokens: 8, total_tokens: 11 });
    const [row] = await rowsOf(id);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 0, status: 'success', prompt_tokens: 3, completion_tokens: 8 });
  });

  it('stream: the chunks add up to the answer; one streamed row', async () => {
    const id = nextId();
    let text = '';
    for await (const chunk of await chat(id).stream('one two')) text += chunk.text;
    expect(text).toBe(SIM_TEXT);
    const [row] = await rowsOf(id);
    expect(row).toMatchObject({ endpoint: 'responses', stream: 1, status: 'success', prompt_tokens: 2, completion_tokens: 8 });
  });

  it('bindTools: the tool call comes back parsed', async () => {
    const msg = await chat()
      .bindTools([{ type: 'function', function: { name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters } }])
      .invoke('weather in Paris?');
    expect(msg.tool_calls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'sim' } });
  });

  it('an unknown model is a 404 LangChain reports as MODEL_NOT_FOUND', async () => {
    const err = await chat(nextId(), 'no-such-model').invoke('hi').catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.lc_error_code).toBe('MODEL_NOT_FOUND');
  });
});

describe('Vercel AI SDK, a second turn after an answer with text and a tool call', () => {
  // With its default store: true the SDK refers to earlier output by id (item_reference), which
  // needs the stored conversation ptui does not keep: a 400 that says how to send the items.
  it('store: true (the default) gets a 400 naming the way out; store: false works', async () => {
    const openai = createOpenAI({ baseURL: f.baseURL, apiKey: MASTER_KEY });
    const messages = [
      { role: 'user' as const, content: 'hi' },
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'hello', providerOptions: { openai: { itemId: 'msg_123' } } }] },
      { role: 'user' as const, content: 'and now?' },
    ];
    const err = await generateText({ model: openai('translated'), messages, maxRetries: 0 }).catch((e) => e);
    expect(APICallError.isInstance(err)).toBe(true);
    expect(err.statusCode).toBe(400);
    expect(JSON.parse(err.responseBody).error.message).toContain('store: false');
    const ok = await generateText({ model: openai('translated'), messages, providerOptions: { openai: { store: false } }, maxRetries: 0 });
    expect(ok.text).toBe(SIM_TEXT);
  });
});
