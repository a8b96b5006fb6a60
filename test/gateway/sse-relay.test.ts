// The SSE relay on its own: events split across any chunking come out whole and in order, an event
// larger than the bound ends the relay, parsing stays linear when one event spans thousands of
// chunks, comments before the first data event are held back, and the completion tokens of a stream
// are counted as it goes.
import { describe, expect, it } from 'vitest';
import { SseRelay, SseEventTooLarge } from '../../src/gateway/sse.js';

class Sink {
  readonly out: Buffer[] = [];
  write(b: Buffer | string): boolean {
    this.out.push(Buffer.from(b));
    return true;
  }
  text(): string {
    return Buffer.concat(this.out).toString('utf8');
  }
}

const MAX = 1024 * 1024;
const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

function feedIn(relay: SseRelay, text: string, size: number): void {
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) relay.feed(buf.subarray(i, i + size));
  relay.end();
}

describe('SseRelay', () => {
  it('any chunking gives the same bytes out, [DONE] held back, tokens counted', () => {
    const stream = chunk('The') + chunk(' simulated') + ': a comment after data\n\n' + chunk(' words') + chunk('', 'stop') + 'data: [DONE]\n\n';
    for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
      const sink = new Sink();
      const relay = new SseRelay(sink, false, false, MAX);
      feedIn(relay, stream, size);
      expect(sink.text(), `chunks of ${size}`).toBe(stream.slice(0, stream.indexOf('data: [DONE]')));
      expect(relay.sawDone).toBe(true);
      expect(relay.countedTokens()).toBe(3);
    }
  });

  it('reads UTF-8 payloads whole and takes usage from its chunk, however the bytes of a character are split', () => {
    const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
    // vLLM-style chunks that each say "usage": null, then the usage-only chunk
    const withNull = (content: string) =>
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null })}\n\n`;
    const usageChunk = `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [], usage })}\n\n`;
    const stream = withNull('Grüße ') + withNull('🙂 “quoted” usage') + chunk('', 'stop') + usageChunk + 'data: [DONE]\n\n';
    for (const size of [1, 2, 5, 1 << 16]) {
      for (const keep of [false, true]) {
        const sink = new Sink();
        const relay = new SseRelay(sink, keep, true, MAX);
        feedIn(relay, stream, size);
        const relayed = keep ? stream.slice(0, stream.indexOf('data: [DONE]')) : stream.slice(0, stream.indexOf(usageChunk));
        expect(sink.text(), `chunks of ${size}`).toBe(relayed);
        expect(relay.usage).toEqual(usage);
        expect(relay.events!.map((e) => JSON.parse(e).choices[0]?.delta?.content ?? 'usage')).toEqual(['Grüße ', '🙂 “quoted” usage', '', 'usage']);
        expect(relay.countedTokens()).toBe(2);
      }
    }
  });

  it('counts a token for each content chunk but a first without text (role only) and a last that finishes or is empty, whatever the spacing', () => {
    const count = (events: string[]) => {
      const relay = new SseRelay(new Sink(), false, false, MAX);
      relay.feed(Buffer.from(events.map((e) => `data: ${e}\n\n`).join('')));
      return relay.countedTokens();
    };
    const role = '{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
    const roleSpaced = '{"choices":[{"index":0,"delta":{"role": "assistant", "content": ""}, "finish_reason": null}]}';
    const text = (t: string) => `{"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}},"finish_reason":null}]}`;
    const spaced = '{"choices":[{"index":0,"delta":{"content": "x"}, "finish_reason": null}]}';
    const finish = '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
    const finishSpaced = '{"choices":[{"index":0,"delta":{}, "finish_reason": "length"}]}';
    const keyInText = text('"finish_reason":"x'); // the key's text inside the content is text
    const usage = '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}';
    expect(count([role, text('Hé'), spaced, keyInText, finish, usage, '[DONE]'])).toBe(3);
    expect(count([roleSpaced, text('a'), finishSpaced])).toBe(1);
    expect(count([text('a'), text('b')])).toBe(2); // cut short: no finish yet
    expect(count([role])).toBe(0);
    expect(count([role, text('only')])).toBe(1);
    expect(count([])).toBe(0);
  });

  it('CRLF line endings end events too', () => {
    const sink = new Sink();
    const relay = new SseRelay(sink, false, false, MAX);
    feedIn(relay, 'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: [DONE]\r\n\r\n', 5);
    expect(sink.text()).toBe('data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\n');
    expect(relay.sawDone).toBe(true);
  });

  it('an event larger than the bound ends the relay, however it is chunked', () => {
    for (const size of [1000, MAX + 10]) {
      const relay = new SseRelay(new Sink(), false, false, MAX);
      const line = Buffer.from('data: "' + 'a'.repeat(MAX + 5));
      expect(() => {
        for (let i = 0; i < line.length; i += size) relay.feed(line.subarray(i, i + size));
      }).toThrow(SseEventTooLarge);
    }
  });

  it('one event spread over 8192 chunks is parsed in linear time (no copy of the whole per chunk)', () => {
    const max = 64 * 1024 * 1024;
    const sink = new Sink();
    const relay = new SseRelay(sink, false, false, max);
    const piece = Buffer.alloc(4096, 'a');
    relay.feed(Buffer.from('data: {"choices":[{"delta":{"content":"'));
    // 32 MiB in 4 KiB pieces: re-copying what came before on every chunk would move 128 GiB
    for (let i = 0; i < 8192; i++) relay.feed(piece);
    relay.feed(Buffer.from('"}}]}\n\n'));
    expect(sink.out.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(32 * 1024 * 1024);
    expect(relay.countedTokens()).toBe(1);
  });

  it('comments before the first data event are not relayed (a keep-alive is not an answer)', () => {
    const sink = new Sink();
    const relay = new SseRelay(sink, false, false, MAX);
    relay.feed(Buffer.from(': ping\n\n: ping\n\n'));
    expect(relay.bytesOut).toBe(0);
    expect(relay.dataEvents).toBe(0);
    relay.feed(Buffer.from(chunk('hi')));
    expect(sink.text()).toBe(chunk('hi'));
    expect(relay.dataEvents).toBe(1);
  });
});
