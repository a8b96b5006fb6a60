// The Responses <-> chat-completions translation on its own: request fields and input items to
// chat messages, a chat answer (text, tool calls, a length stop) to a Response, and a chat stream
// to the Responses event sequence, as a byte stream split at awkward places.
import { describe, expect, it } from 'vitest';
import { chatToResponse, ChatStreamToResponses } from '../../src/gateway/responses/from-chat.js';
import { toChatRequest } from '../../src/gateway/responses/to-chat.js';

describe('toChatRequest', () => {
  it('a conversation with roles, calls made together, their outputs, and settings', () => {
    const body = {
      instructions: 'be brief',
      input: [
        { role: 'developer', content: 'answer in French' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather and time?' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'let me check' }] },
        { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '12:00' }] },
      ],
      tool_choice: { type: 'function', name: 'weather' },
      tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' } }],
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      max_output_tokens: 50,
      top_p: 0.9,
      metadata: { a: 'b' },
      truncation: 'auto',
    };
    expect(toChatRequest(body, 'm', true)).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'system', content: 'answer in French' },
        { role: 'user', content: [{ type: 'text', text: 'weather and time?' }] },
        {
          role: 'assistant',
          content: 'let me check',
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'c2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'c2', content: '12:00' },
      ],
      top_p: 0.9,
      max_tokens: 50,
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe('chatToResponse', () => {
  it('text and tool calls become output items; a length stop is incomplete', () => {
    const chat = {
      id: 'chatcmpl-abc',
      created: 1700000000,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'length' }],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    };
    const { response, usage } = chatToResponse(chat, { input: 'x', max_output_tokens: 2 }, 'm');
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(response).toMatchObject({
      id: 'resp_abc',
      object: 'response',
      created_at: 1700000000,
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      max_output_tokens: 2,
      usage: { input_tokens: 4, output_tokens: 2, total_tokens: 6 },
    });
    expect((response.output as any[]).map((o) => [o.type, o.status])).toEqual([
      ['message', 'completed'],
      ['function_call', 'completed'],
    ]);
    expect((response.output as any[])[1]).toMatchObject({ call_id: 'call_1', name: 'f', arguments: '{}' });
  });
});

describe('ChatStreamToResponses', () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const stream =
    chunk({ role: 'assistant', content: 'Hel' }) +
    chunk({ content: 'lo' }) +
    chunk({ tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }) +
    chunk({}, 'tool_calls') +
    `data: ${JSON.stringify({ id: 'chatcmpl-s', choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } })}\n\n` +
    'data: [DONE]\n\n';

  it('emits the event sequence as chunks arrive, holding back the terminal event', () => {
    let out = '';
    const t = new ChatStreamToResponses({ write: (b) => ((out += b.toString()), true) }, { input: 'x' }, 'm');
    // split the bytes every 7 characters: events cross chunk boundaries
    for (let i = 0; i < stream.length; i += 7) t.feed(Buffer.from(stream.slice(i, i + 7)));
    t.end();
    const events = out
      .split('\n\n')
      .filter(Boolean)
      .map((f) => JSON.parse(f.split('\ndata: ')[1]));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(t.sawDone).toBe(true);
    expect(t.usage).toEqual({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    const terminal = JSON.parse(t.terminalFrame!.split('\ndata: ')[1]);
    expect(terminal).toMatchObject({ type: 'response.completed', sequence_number: events.length });
    expect(terminal.response.output.map((o: any) => o.type)).toEqual(['message', 'function_call']);
    expect(terminal.response.output[0].content[0].text).toBe('Hello');
    expect(terminal.response.output[1]).toMatchObject({ call_id: 'call_9', arguments: '{"a":1}' });
    expect(t.nextSequence).toBe(events.length + 1);
  });

  it('a stream cut before [DONE] is not done, and says what the next sequence number is', () => {
    const t = new ChatStreamToResponses({ write: () => true }, { input: 'x' }, 'm');
    t.feed(Buffer.from(chunk({ content: 'partial' })));
    t.end();
    expect(t.sawDone).toBe(false);
    expect(t.terminalFrame).toBeNull();
    expect(t.nextSequence).toBe(5); // created, in_progress, item.added, part.added, delta
  });
});
