import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from '../../src/gateway/cache/key.js';
import { assembleStream, streamFromBody } from '../../src/gateway/cache/sse.js';

describe('cache key', () => {
  const base = { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('ignores key order, stream, stream_options and user', () => {
    const k = cacheKey('chat', 'gpt-4', base);
    expect(cacheKey('chat', 'gpt-4', { temperature: 0, messages: base.messages, model: 'gpt-4' })).toBe(k);
    expect(cacheKey('chat', 'gpt-4', { ...base, stream: true, stream_options: { include_usage: true }, user: 'alice' })).toBe(k);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
  });

  it('every generation parameter, the endpoint and the logical model change the key', () => {
    const k = cacheKey('chat', 'gpt-4', base);
    expect(cacheKey('chat', 'gpt-4', { ...base, temperature: 0.5 })).not.toBe(k);
    expect(cacheKey('chat', 'gpt-4', { ...base, max_tokens: 5 })).not.toBe(k);
    expect(cacheKey('chat', 'gpt-4', { ...base, seed: 1 })).not.toBe(k);
    expect(cacheKey('chat', 'gpt-4', { ...base, tools: [] })).not.toBe(k);
    expect(cacheKey('chat', 'gpt-4', { ...base, messages: [{ role: 'user', content: 'hi!' }] })).not.toBe(k);
    expect(cacheKey('completions', 'gpt-4', base)).not.toBe(k);
    expect(cacheKey('chat', 'code', { ...base, model: 'code' })).not.toBe(k);
  });
});

describe('stream <-> JSON', () => {
  const chunk = (o: Record<string, unknown>) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', ...o });

  it('assembles a chat stream with content, tool calls and usage', () => {
    const events = [
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
      chunk({ choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] }),
      chunk({ choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] }),
      chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'get', arguments: '{"a"' } }] } }] }),
      chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] }),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
      '[DONE]',
    ];
    const body = JSON.parse(assembleStream(events, 'chat')!);
    expect(body).toEqual({
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', tool_calls: [{ id: 't1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('a broken or error stream is not assembled (never cached)', () => {
    expect(assembleStream(['{"id":'], 'chat')).toBeNull();
    expect(assembleStream([JSON.stringify({ error: { message: 'x' } })], 'chat')).toBeNull();
    expect(assembleStream([], 'chat')).toBeNull();
  });

  it('a stored answer replays as chunks that assemble back to the same answer', () => {
    const stored = JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      created: 2,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'cached words' }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    const withUsage = streamFromBody(stored, 'chat', true)!;
    expect(withUsage.map((e) => JSON.parse(e).object)).toEqual(['chat.completion.chunk', 'chat.completion.chunk', 'chat.completion.chunk']);
    expect(JSON.parse(assembleStream(withUsage, 'chat')!)).toEqual(JSON.parse(stored));
    const noUsage = streamFromBody(stored, 'chat', false)!;
    expect(noUsage).toHaveLength(2);
    expect(noUsage.some((e) => e.includes('"usage"'))).toBe(false);
  });

  it('completions round-trip too; embeddings never stream', () => {
    const stored = JSON.stringify({ id: 'y', object: 'text_completion', created: 3, model: 'm', choices: [{ index: 0, text: 'abc', logprobs: null, finish_reason: 'stop' }], usage: null });
    const ev = streamFromBody(stored, 'completions', false)!;
    expect(JSON.parse(assembleStream(ev, 'completions')!)).toEqual(JSON.parse(stored));
    expect(streamFromBody('{"data":[]}', 'embeddings', false)).toBeNull();
  });
});
