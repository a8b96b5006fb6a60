// A checked Responses request (see validate.ts) as the chat-completions request that asks the
// same of a provider without the Responses API: `instructions` become the first system message,
// input items become messages (consecutive function calls one assistant message with tool_calls,
// outputs tool messages), function tools and tool_choice their chat forms, `text.format`
// `response_format`, and `max_output_tokens` `max_tokens`. Fields without a chat counterpart
// that change nothing about the answer (metadata, include, truncation, ...) are left out.
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Request fields that mean the same in both APIs. */
const SAME_FIELDS = ['temperature', 'top_p', 'parallel_tool_calls', 'user', 'seed', 'frequency_penalty', 'presence_penalty'] as const;

function chatPart(part: Obj): Obj {
  if (part.type === 'input_image') {
    const image: Obj = { url: part.image_url };
    if (typeof part.detail === 'string') image.detail = part.detail;
    return { type: 'image_url', image_url: image };
  }
  return { type: 'text', text: part.type === 'refusal' ? part.refusal : part.text };
}

/** Text of parts that can only be text (assistant turns, tool outputs). */
const joinedText = (content: unknown): string =>
  typeof content === 'string' ? content : (content as Obj[]).map((p) => (p.type === 'refusal' ? p.refusal : (p.text ?? ''))).join('');

function messageOf(item: Obj): Obj {
  const role = item.role === 'developer' ? 'system' : item.role;
  const content = item.content;
  if (role === 'assistant' || role === 'system') return { role, content: joinedText(content) };
  if (typeof content === 'string') return { role, content };
  return { role, content: (content as Obj[]).map(chatPart) };
}

export function toChatMessages(body: Obj): Obj[] {
  const messages: Obj[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  const input = body.input;
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return messages;
  }
  for (const item of input as Obj[]) {
    const type = item.type ?? 'message';
    if (type === 'message') messages.push(messageOf(item));
    else if (type === 'function_call') {
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      const last = messages[messages.length - 1];
      // Calls made together (and a text turn just before them) are one assistant message.
      if (last && last.role === 'assistant' && !('tool_call_id' in last)) ((last.tool_calls as Obj[] | undefined) ?? (last.tool_calls = [])).push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: joinedText(item.output) });
    }
  }
  return messages;
}

function chatTools(tools: unknown): Obj[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return (tools as Obj[]).map((t) => {
    const fn: Obj = { name: t.name };
    if (t.description != null) fn.description = t.description;
    if (t.parameters != null) fn.parameters = t.parameters;
    if (typeof t.strict === 'boolean') fn.strict = t.strict;
    return { type: 'function', function: fn };
  });
}

function chatToolChoice(choice: unknown): unknown {
  if (isObj(choice) && choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  return choice;
}

function responseFormat(text: unknown): Obj | undefined {
  if (!isObj(text) || !isObj(text.format)) return undefined;
  const f = text.format;
  if (f.type === 'json_schema') {
    const schema: Obj = { name: f.name ?? 'response', schema: f.schema };
    if (typeof f.strict === 'boolean') schema.strict = f.strict;
    if (typeof f.description === 'string') schema.description = f.description;
    return { type: 'json_schema', json_schema: schema };
  }
  if (f.type === 'json_object') return { type: 'json_object' };
  return undefined;
}

/** The chat-completions body for one attempt at `model`; streams ask for usage. */
export function toChatRequest(body: Obj, model: string, stream: boolean): Obj {
  const chat: Obj = { model, messages: toChatMessages(body) };
  for (const k of SAME_FIELDS) if (body[k] != null) chat[k] = body[k];
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  const tools = chatTools(body.tools);
  if (tools) {
    chat.tools = tools;
    if (body.tool_choice != null) chat.tool_choice = chatToolChoice(body.tool_choice);
  }
  const format = responseFormat(body.text);
  if (format) chat.response_format = format;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
