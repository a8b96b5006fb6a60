// What ptui accepts on POST /v1/responses: the stateless part of OpenAI's Responses API, the same
// for providers that serve it and for those it is translated for. The gateway keeps no
// conversations (no previous_response_id, store, background, conversation or stored prompt) and
// runs no built-in tools (web search, file search, code interpreter, ...): each gets a 400 that
// says so, naming the field, instead of a silently different answer.
import { badRequest } from '../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const NO_STATE = 'ptui keeps no conversations and runs no built-in tools';

/** Input item types of the stateless subset (a message may also leave out its `type`). */
export const INPUT_ITEM_TYPES = ['message', 'function_call', 'function_call_output'] as const;
const MESSAGE_ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const CONTENT_PART_TYPES = new Set(['input_text', 'input_image', 'output_text', 'refusal']);

const shown = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
};

function rejectStateful(body: Obj): void {
  if (body.previous_response_id != null) {
    throw badRequest(`${NO_STATE}: previous_response_id is not supported; send the whole conversation in "input"`, 'previous_response_id');
  }
  if (body.conversation != null) {
    throw badRequest(`${NO_STATE}: "conversation" is not supported; send the whole conversation in "input"`, 'conversation');
  }
  if (body.store === true) throw badRequest(`${NO_STATE}: "store": true is not supported; leave it out or send false`, 'store');
  if (body.background === true) throw badRequest(`${NO_STATE}: background mode is not supported; leave out "background"`, 'background');
  if (body.prompt != null) throw badRequest(`${NO_STATE}: stored prompts ("prompt") are not supported; send "instructions" and "input"`, 'prompt');
}

function checkTools(tools: unknown): void {
  if (tools == null) return;
  if (!Array.isArray(tools)) throw badRequest('"tools" must be an array', 'tools');
  tools.forEach((t, i) => {
    if (!isObj(t)) throw badRequest(`tools[${i}] must be an object`, `tools[${i}]`);
    if (t.type !== 'function') {
      throw badRequest(`${NO_STATE}: tools[${i}] is a built-in tool (type ${shown(t.type)}); only "function" tools are supported`, `tools[${i}].type`);
    }
    if (typeof t.name !== 'string' || t.name === '') throw badRequest(`tools[${i}].name must be a non-empty string`, `tools[${i}].name`);
  });
}

function checkContent(content: unknown, param: string): void {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw badRequest(`${param} must be a string or an array of content parts`, param);
  content.forEach((part, j) => {
    const p = `${param}[${j}]`;
    if (!isObj(part)) throw badRequest(`${p} must be an object`, p);
    if (!CONTENT_PART_TYPES.has(part.type as string)) {
      throw badRequest(`${p}.type: unsupported content part ${shown(part.type)} (supported: ${[...CONTENT_PART_TYPES].join(', ')})`, `${p}.type`);
    }
    if (part.type === 'input_image') {
      if (typeof part.image_url !== 'string' || part.image_url === '') {
        throw badRequest(`${p}.image_url must be a URL or data: URL (file_id needs stored files, which ptui does not keep)`, `${p}.image_url`);
      }
    } else {
      const key = part.type === 'refusal' ? 'refusal' : 'text';
      if (typeof part[key] !== 'string') throw badRequest(`${p}.${key} must be a string`, `${p}.${key}`);
    }
  });
}

function checkItems(items: unknown[]): void {
  const calls = new Set<string>();
  items.forEach((item, i) => {
    const p = `input[${i}]`;
    if (!isObj(item)) throw badRequest(`${p} must be an object`, p);
    const type = item.type ?? 'message';
    switch (type) {
      case 'message':
        if (!MESSAGE_ROLES.has(item.role as string)) {
          throw badRequest(`${p}.role must be one of ${[...MESSAGE_ROLES].join(', ')}; got ${shown(item.role)}`, `${p}.role`);
        }
        checkContent(item.content, `${p}.content`);
        return;
      case 'function_call':
        if (typeof item.call_id !== 'string' || item.call_id === '') throw badRequest(`${p}.call_id must be a non-empty string`, `${p}.call_id`);
        if (typeof item.name !== 'string' || item.name === '') throw badRequest(`${p}.name must be a non-empty string`, `${p}.name`);
        if (typeof item.arguments !== 'string') throw badRequest(`${p}.arguments must be a string (JSON text)`, `${p}.arguments`);
        calls.add(item.call_id);
        return;
      case 'function_call_output':
        if (typeof item.call_id !== 'string' || !calls.has(item.call_id)) {
          throw badRequest(
            `${p}: function_call_output for call_id ${shown(item.call_id)} has no function_call with that call_id before it in "input" (${NO_STATE}: send the call and its output together)`,
            `${p}.call_id`,
          );
        }
        if (typeof item.output !== 'string' && !Array.isArray(item.output)) {
          throw badRequest(`${p}.output must be a string or an array of content parts`, `${p}.output`);
        }
        if (Array.isArray(item.output)) checkContent(item.output, `${p}.output`);
        return;
      case 'item_reference':
        throw badRequest(
          `${NO_STATE}: ${p} is an item_reference, which needs stored items; send the item itself (the Vercel AI SDK does with providerOptions: { openai: { store: false } })`,
          `${p}.type`,
        );
      default:
        throw badRequest(`${p}.type: unknown input item type ${shown(type)} (supported: ${INPUT_ITEM_TYPES.join(', ')})`, `${p}.type`);
    }
  });
}

/** Checks a Responses request body; throws a 400 naming the param on the first problem. */
export function checkResponsesBody(body: Obj): void {
  rejectStateful(body);
  const input = body.input;
  if (input === undefined) throw badRequest('missing required field "input"', 'input');
  if (typeof input !== 'string' && !Array.isArray(input)) throw badRequest('"input" must be a string or an array of items', 'input');
  if (Array.isArray(input)) checkItems(input);
  if (body.instructions != null && typeof body.instructions !== 'string') {
    throw badRequest('"instructions" must be a string', 'instructions');
  }
  checkTools(body.tools);
}
