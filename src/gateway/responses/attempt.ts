// One attempt of a /v1/responses request at one target: what is sent where, and how the answer
// comes back. A provider that serves the Responses API (`responses: native`) gets the request
// with its concrete model and answers in kind; any other gets the chat-completions translation
// (to-chat.ts) on /chat/completions, and its answer is translated back (from-chat.ts).
import { responsesMode, type Provider } from '../../config/schema.js';
import type { TokenUsage } from '../context.js';
import type { GatewayError } from '../errors.js';
import type { ByteSink } from '../relay-progress.js';
import { readResponsesUsage, sseFrame } from './builder.js';
import { chatToResponse, ChatStreamToResponses } from './from-chat.js';
import { NativeResponsesRelay } from './native-relay.js';
import { toChatRequest } from './to-chat.js';

type Obj = Record<string, unknown>;

export type ResponsesRelay = ChatStreamToResponses | NativeResponsesRelay;

export interface ResponsesPlan {
  translate: boolean;
  /** which of the provider's paths to call */
  path: 'chat' | 'responses';
  payload: string;
}

export function planResponses(provider: Provider, body: Obj, model: string, stream: boolean): ResponsesPlan {
  if (responsesMode(provider) === 'native') return { translate: false, path: 'responses', payload: JSON.stringify({ ...body, model }) };
  return { translate: true, path: 'chat', payload: JSON.stringify(toChatRequest(body, model, stream)) };
}

/** A complete upstream JSON answer (already parsed) as the Response the client gets. */
export function responsesJson(plan: ResponsesPlan, parsed: Obj, body: Obj, model: string): { text: string | null; usage: TokenUsage | null } {
  if (!plan.translate) return { text: null, usage: readResponsesUsage(parsed.usage) };
  const { response, usage } = chatToResponse(parsed, body, model);
  return { text: JSON.stringify(response), usage };
}

export function responsesRelay(plan: ResponsesPlan, sink: ByteSink, body: Obj, model: string): ResponsesRelay {
  return plan.translate ? new ChatStreamToResponses(sink, body, model) : new NativeResponsesRelay(sink);
}

/** The `error` event that ends a Responses stream the gateway has to cut short. */
export function errorFrame(ge: GatewayError, sequence: number): string {
  const e = ge.toJSON().error;
  return sseFrame({ type: 'error', sequence_number: sequence, code: e.code, message: e.message, param: e.param });
}
