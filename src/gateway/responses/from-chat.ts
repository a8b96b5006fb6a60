// A chat-completions answer as the Responses API answer the client asked for: the whole JSON
// body at once, or the chat stream translated chunk by chunk into the Responses event sequence
// (see builder.ts). Text and function-call deltas go out as they arrive; the terminal event is
// held back, like a chat stream's [DONE], until the usage row is written.
import type { TokenUsage } from '../context.js';
import { readUsage } from '../cost.js';
import type { ByteSink } from '../relay-progress.js';
import { newId, ResponseBuilder, sseFrame, type ResponsesEvent } from './builder.js';
import { ResponsesRelayBase } from './relay-base.js';

type Obj = Record<string, any>;

const createdAt = (chat: Obj) => (typeof chat.created === 'number' && Number.isFinite(chat.created) ? Math.floor(chat.created) : Math.floor(Date.now() / 1000));
const responseId = (chat: Obj) => (typeof chat.id === 'string' && chat.id !== '' ? `resp_${chat.id.replace(/^chatcmpl-/, '')}` : newId('resp'));

/** A complete chat completion as a Response object. */
export function chatToResponse(chat: Obj, request: Obj, model: string): { response: Obj; usage: TokenUsage | null } {
  const b = new ResponseBuilder(responseId(chat), createdAt(chat), typeof chat.model === 'string' ? chat.model : model, request);
  const choice = (Array.isArray(chat.choices) ? chat.choices[0] : null) as Obj | null;
  const message = (choice?.message ?? {}) as Obj;
  if (typeof message.content === 'string' && message.content !== '') b.text(message.content);
  if (Array.isArray(message.tool_calls)) {
    for (const tc of message.tool_calls as Obj[]) {
      b.callStart(typeof tc.id === 'string' ? tc.id : newId('call'), String(tc.function?.name ?? ''));
      b.callArgs(typeof tc.function?.arguments === 'string' ? tc.function.arguments : '');
    }
  }
  const usage = readUsage(chat.usage);
  return { response: b.response(choice?.finish_reason === 'length', usage), usage };
}

/**
 * Reads a chat-completions SSE stream and writes the Responses events for it. Same surface as
 * the chat relay (its progress, feed and end), plus the held-back terminal frame.
 */
export class ChatStreamToResponses extends ResponsesRelayBase {
  private builder: ResponseBuilder | null = null;
  private finishReason: string | null = null;
  /** chat tool-call index -> whether its item is the open one */
  private callIndex = -1;

  constructor(
    sink: ByteSink,
    private readonly request: Obj,
    private readonly model: string,
  ) {
    super(sink);
  }

  /** The sequence number an `error` event after the last written one carries. */
  get nextSequence(): number {
    return this.builder?.nextSequence ?? 0;
  }

  private write(events: ResponsesEvent[]): void {
    if (events.length === 0) return;
    this.sendText(events.map(sseFrame).join(''));
  }

  /** Chat streams carry no event names: each data payload is one chunk (or [DONE]). */
  protected onEvent(_name: string | undefined, data: string): void {
    this.noteDataEvent();
    if (this.sawDone || this.invalidEvent) return;
    if (data === '[DONE]') {
      this.sawDone = true;
      const b = this.builder ?? this.startWith({});
      const events = b.finish(this.finishReason === 'length', this.usage);
      const terminal = events.pop()!;
      this.write(events);
      this.terminalFrame = sseFrame(terminal);
      this.finalResponse = terminal.response as Obj;
      return;
    }
    let chunk: Obj;
    try {
      chunk = JSON.parse(data) as Obj;
    } catch {
      this.invalidEvent = true;
      return;
    }
    if (chunk === null || typeof chunk !== 'object' || chunk.error) {
      this.invalidEvent = true;
      return;
    }
    const b = this.builder ?? this.startWith(chunk);
    if (chunk.usage) this.usage = readUsage(chunk.usage);
    const choice = (Array.isArray(chunk.choices) ? chunk.choices[0] : null) as Obj | null;
    if (!choice) return;
    const delta = (choice.delta ?? {}) as Obj;
    if (typeof delta.content === 'string' && delta.content !== '') {
      this.sawContent = true;
      this.completionTokens++;
      this.callIndex = -1;
      this.write(b.text(delta.content));
    }
    if (Array.isArray(delta.tool_calls)) {
      this.sawContent = true;
      for (const tc of delta.tool_calls as Obj[]) {
        const index = typeof tc.index === 'number' ? tc.index : this.callIndex + 1;
        if (index !== this.callIndex) {
          this.callIndex = index;
          this.write(b.callStart(typeof tc.id === 'string' ? tc.id : newId('call'), String(tc.function?.name ?? '')));
        }
        if (typeof tc.function?.arguments === 'string') this.write(b.callArgs(tc.function.arguments));
      }
    }
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
  }

  private startWith(chunk: Obj): ResponseBuilder {
    const b = (this.builder = new ResponseBuilder(responseId(chunk), createdAt(chunk), typeof chunk.model === 'string' ? chunk.model : this.model, this.request));
    this.write(b.start());
    return b;
  }
}
