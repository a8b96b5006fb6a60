// The prompt text of a request body, as consecutive slots in reading order: `messages` with
// string content or content-part arrays (every role), tool-call and function-call arguments,
// `prompt` and `input` as a string or an array, the top-level `system`, `instructions` and
// `suffix` some clients send, Responses API input items (function calls, their outputs) and tool
// descriptions. The guardrails scan the seams between consecutive slots (a secret
// split across two parts); every string of the body is scanned on its own elsewhere (strings.ts).

/** A string inside the request body that can be read and replaced in place. */
export interface TextSlot {
  owner: Record<string, unknown> | unknown[];
  key: string | number;
  text: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function pushString(slots: TextSlot[], owner: Obj | unknown[], key: string | number): void {
  const v = (owner as Record<string | number, unknown>)[key];
  if (typeof v === 'string' && v.length > 0) slots.push({ owner, key, text: v });
}

/** Message content: a string, or parts whose text lives in `text` (or nested `content`, e.g. tool results). */
function collectContent(slots: TextSlot[], owner: Obj | unknown[], key: string | number, depth: number): void {
  const v = (owner as Record<string | number, unknown>)[key];
  if (typeof v === 'string') return pushString(slots, owner, key);
  if (!Array.isArray(v) || depth > 4) return;
  for (let i = 0; i < v.length; i++) {
    const part = v[i];
    if (typeof part === 'string') pushString(slots, v, i);
    else if (isObj(part)) {
      if (typeof part.text === 'string') pushString(slots, part, 'text');
      if (part.content !== undefined) collectContent(slots, part, 'content', depth + 1);
    }
  }
}

function collectMessage(slots: TextSlot[], m: Obj): void {
  collectContent(slots, m, 'content', 0);
  if (Array.isArray(m.tool_calls)) {
    for (const tc of m.tool_calls) {
      if (isObj(tc) && isObj(tc.function)) pushString(slots, tc.function, 'arguments');
    }
  }
  if (isObj(m.function_call)) pushString(slots, m.function_call, 'arguments');
  // Responses API input items: a function call's arguments and a function call's output.
  if (m.type === 'function_call') pushString(slots, m, 'arguments');
  if (m.type === 'function_call_output') collectContent(slots, m, 'output', 0);
}

/** Tool descriptions are prompt text too (chat tools keep them under `function`). */
function collectTools(slots: TextSlot[], tools: unknown): void {
  if (!Array.isArray(tools)) return;
  for (const t of tools) {
    if (!isObj(t)) continue;
    pushString(slots, t, 'description');
    if (isObj(t.function)) pushString(slots, t.function, 'description');
  }
}

/** `prompt` / `input`: a string, or an array of strings (token arrays skipped), or message-like items. */
function collectPromptLike(slots: TextSlot[], body: Obj, key: string): void {
  const v = body[key];
  if (typeof v === 'string') return pushString(slots, body, key);
  if (!Array.isArray(v)) return;
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    if (typeof item === 'string') pushString(slots, v, i);
    else if (isObj(item)) collectMessage(slots, item);
  }
}

export function collectTextSlots(body: Obj): TextSlot[] {
  const slots: TextSlot[] = [];
  if (body.system !== undefined) collectContent(slots, body, 'system', 0);
  pushString(slots, body, 'instructions');
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (isObj(m)) collectMessage(slots, m);
  }
  collectPromptLike(slots, body, 'prompt');
  pushString(slots, body, 'suffix');
  collectPromptLike(slots, body, 'input');
  collectTools(slots, body.tools);
  return slots;
}
