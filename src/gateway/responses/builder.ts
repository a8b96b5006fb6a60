// One Responses API answer built up piece by piece (text deltas, function calls, the finish), as
// both the final Response object and the event sequence a streaming client gets:
//   response.created, response.in_progress,
//   per message:  response.output_item.added, response.content_part.added,
//                 response.output_text.delta..., response.output_text.done,
//                 response.content_part.done, response.output_item.done
//   per call:     response.output_item.added, response.function_call_arguments.delta...,
//                 response.function_call_arguments.done, response.output_item.done
//   response.completed (or response.incomplete when the output limit cut it short).
// Used to translate a chat-completions answer and to replay a stored Response as a stream.
import { randomBytes } from 'node:crypto';
import type { TokenUsage } from '../context.js';
import { readUsage } from '../cost.js';

type Obj = Record<string, unknown>;

/** One event: its `type` is also the SSE event name. */
export type ResponsesEvent = Obj & { type: string };

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** An SSE frame as OpenAI sends them: the event name, then the JSON (which repeats it as `type`). */
export const sseFrame = (ev: ResponsesEvent) => `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;

/** Usage in the Responses API's shape. */
export function responsesUsage(u: TokenUsage | null): Obj | null {
  if (!u) return null;
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.total_tokens,
  };
}

/** Usage from a Response's `usage` (input/output tokens) as ptui counts it; null when absent or malformed. */
export function readResponsesUsage(value: unknown): TokenUsage | null {
  if (!value || typeof value !== 'object') return null;
  const u = value as Obj;
  // The same normalisation as chat usage, under the chat names.
  return readUsage({ prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens, total_tokens: u.total_tokens });
}

/** The request fields a Response repeats back, with the API's defaults. */
function echo(request: Obj): Obj {
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: request.temperature ?? 1,
    text: request.text && typeof request.text === 'object' && (request.text as Obj).format ? request.text : { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

interface OpenText {
  kind: 'text';
  item: Obj;
  text: string;
  index: number;
}
interface OpenCall {
  kind: 'call';
  item: Obj;
  index: number;
}

export class ResponseBuilder {
  private seq = 0;
  private readonly output: Obj[] = [];
  private open: OpenText | OpenCall | null = null;
  private readonly head: Obj;

  constructor(id: string, createdAt: number, model: string, request: Obj) {
    this.head = { id, object: 'response', created_at: createdAt, model, ...echo(request) };
  }

  /** The next event's sequence number (for an `error` event after the last one). */
  get nextSequence(): number {
    return this.seq;
  }

  private ev(type: string, fields: Obj): ResponsesEvent {
    return { type, sequence_number: this.seq++, ...fields };
  }

  private snapshot(status: string, extra: Obj = {}): Obj {
    return { ...this.head, status, error: null, incomplete_details: null, output: [...this.output], usage: null, ...extra };
  }

  start(): ResponsesEvent[] {
    return [this.ev('response.created', { response: this.snapshot('in_progress') }), this.ev('response.in_progress', { response: this.snapshot('in_progress') })];
  }

  text(delta: string, itemId?: string): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    let open = this.open;
    if (open?.kind !== 'text') {
      out.push(...this.close());
      const item = { id: itemId ?? newId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      open = this.open = { kind: 'text', item, text: '', index: this.output.length };
      out.push(this.ev('response.output_item.added', { output_index: open.index, item: { ...item } }));
      out.push(
        this.ev('response.content_part.added', {
          item_id: item.id,
          output_index: open.index,
          content_index: 0,
          part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
        }),
      );
    }
    if (delta === '') return out;
    open.text += delta;
    out.push(this.ev('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta, logprobs: [] }));
    return out;
  }

  callStart(callId: string, name: string, itemId?: string): ResponsesEvent[] {
    const out = this.close();
    const item = { id: itemId ?? newId('fc'), type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name };
    this.open = { kind: 'call', item, index: this.output.length };
    out.push(this.ev('response.output_item.added', { output_index: this.open.index, item: { ...item } }));
    return out;
  }

  callArgs(delta: string): ResponsesEvent[] {
    const open = this.open;
    if (open?.kind !== 'call' || delta === '') return [];
    open.item.arguments = (open.item.arguments as string) + delta;
    return [this.ev('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta })];
  }

  /** Ends the open item, if any. */
  private close(): ResponsesEvent[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    const { id } = open.item;
    if (open.kind === 'text') {
      const part = { type: 'output_text', annotations: [], logprobs: [], text: open.text };
      const item = { ...open.item, status: 'completed', content: [part] };
      this.output.push(item);
      return [
        this.ev('response.output_text.done', { item_id: id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] }),
        this.ev('response.content_part.done', { item_id: id, output_index: open.index, content_index: 0, part }),
        this.ev('response.output_item.done', { output_index: open.index, item }),
      ];
    }
    const item: Obj = { ...open.item, status: 'completed' };
    this.output.push(item);
    return [
      this.ev('response.function_call_arguments.done', { item_id: id, output_index: open.index, name: item.name, arguments: item.arguments }),
      this.ev('response.output_item.done', { output_index: open.index, item }),
    ];
  }

  /** Closes the answer: `incomplete` when the output limit cut it short. The last event is the terminal one. */
  finish(incomplete: boolean, usage: TokenUsage | null): ResponsesEvent[] {
    const out = this.close();
    const final = this.response(incomplete, usage);
    out.push(this.ev(incomplete ? 'response.incomplete' : 'response.completed', { response: final }));
    return out;
  }

  /** The whole Response object (all items closed). */
  response(incomplete: boolean, usage: TokenUsage | null): Obj {
    this.close();
    return this.snapshot(incomplete ? 'incomplete' : 'completed', {
      incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
      completed_at: Math.floor(Date.now() / 1000),
      usage: responsesUsage(usage),
    });
  }
}
