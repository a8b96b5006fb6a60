// Between the two forms of one answer: a streamed response's SSE payloads are assembled into
// the JSON a non-streamed request gets (what the cache stores), and a stored JSON answer is
// replayed as a short, valid SSE stream (role and content in one chunk, then the finish chunk,
// then the usage chunk when the client asked for it).
import type { Endpoint } from '../context.js';

type Obj = Record<string, any>;

interface ToolCallAcc {
  id?: string;
  type: string;
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  index: number;
  role: string | null;
  content: string | null;
  text: string;
  refusal: string | null;
  toolCalls: ToolCallAcc[];
  finishReason: string | null;
}

/** The non-streamed JSON body equivalent to a stream's data payloads; null if they do not parse. */
export function assembleStream(events: readonly string[], endpoint: Endpoint): string | null {
  if (endpoint === 'embeddings') return null;
  let head: Obj | null = null;
  let usage: unknown = null;
  const choices = new Map<number, ChoiceAcc>();
  for (const ev of events) {
    if (ev === '[DONE]') continue;
    let j: Obj;
    try {
      j = JSON.parse(ev) as Obj;
    } catch {
      return null;
    }
    if (j === null || typeof j !== 'object') return null;
    if (j.error) return null;
    head ??= j;
    if (j.usage) usage = j.usage;
    if (!Array.isArray(j.choices)) continue;
    for (const c of j.choices as Obj[]) {
      const index = typeof c.index === 'number' ? c.index : 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = { index, role: null, content: null, text: '', refusal: null, toolCalls: [], finishReason: null };
        choices.set(index, acc);
      }
      if (typeof c.text === 'string') acc.text += c.text;
      const d = c.delta as Obj | undefined;
      if (d) {
        if (typeof d.role === 'string') acc.role = d.role;
        if (typeof d.content === 'string') acc.content = (acc.content ?? '') + d.content;
        if (typeof d.refusal === 'string') acc.refusal = (acc.refusal ?? '') + d.refusal;
        if (Array.isArray(d.tool_calls)) {
          for (const tc of d.tool_calls as Obj[]) {
            const i = typeof tc.index === 'number' ? tc.index : acc.toolCalls.length;
            const slot = (acc.toolCalls[i] ??= { type: 'function', function: { name: '', arguments: '' } });
            if (typeof tc.id === 'string') slot.id = tc.id;
            if (typeof tc.type === 'string') slot.type = tc.type;
            if (typeof tc.function?.name === 'string') slot.function.name += tc.function.name;
            if (typeof tc.function?.arguments === 'string') slot.function.arguments += tc.function.arguments;
          }
        }
      }
      if (typeof c.finish_reason === 'string') acc.finishReason = c.finish_reason;
    }
  }
  if (!head || choices.size === 0) return null;
  const sorted = [...choices.values()].sort((a, b) => a.index - b.index);
  const base = { id: head.id, created: head.created, model: head.model };
  if (endpoint === 'completions') {
    return JSON.stringify({
      ...base,
      object: 'text_completion',
      choices: sorted.map((c) => ({ index: c.index, text: c.text, logprobs: null, finish_reason: c.finishReason })),
      usage,
    });
  }
  return JSON.stringify({
    ...base,
    object: 'chat.completion',
    ...(head.system_fingerprint ? { system_fingerprint: head.system_fingerprint } : {}),
    choices: sorted.map((c) => {
      const message: Obj = { role: c.role ?? 'assistant', content: c.content };
      if (c.refusal !== null) message.refusal = c.refusal;
      if (c.toolCalls.length > 0) message.tool_calls = c.toolCalls.filter(Boolean);
      return { index: c.index, message, logprobs: null, finish_reason: c.finishReason };
    }),
    usage,
  });
}

/** SSE data payloads (without `[DONE]`) that replay a stored JSON answer; null if it cannot stream. */
export function streamFromBody(bodyText: string, endpoint: Endpoint, includeUsage: boolean): string[] | null {
  if (endpoint === 'embeddings') return null;
  let j: Obj;
  try {
    j = JSON.parse(bodyText) as Obj;
  } catch {
    return null;
  }
  if (!j || !Array.isArray(j.choices)) return null;
  const chat = endpoint === 'chat';
  const base = { id: j.id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: j.created, model: j.model };
  const events: string[] = [];
  for (const c of j.choices as Obj[]) {
    if (chat) {
      const m = (c.message ?? {}) as Obj;
      const delta: Obj = { role: m.role ?? 'assistant', content: m.content ?? null };
      if (typeof m.refusal === 'string') delta.refusal = m.refusal;
      if (Array.isArray(m.tool_calls)) delta.tool_calls = (m.tool_calls as Obj[]).map((tc, index) => ({ index, ...tc }));
      events.push(JSON.stringify({ ...base, choices: [{ index: c.index ?? 0, delta, logprobs: null, finish_reason: null }] }));
    } else {
      events.push(JSON.stringify({ ...base, choices: [{ index: c.index ?? 0, text: c.text ?? '', logprobs: null, finish_reason: null }] }));
    }
  }
  events.push(
    JSON.stringify({
      ...base,
      choices: (j.choices as Obj[]).map((c) =>
        chat
          ? { index: c.index ?? 0, delta: {}, logprobs: null, finish_reason: c.finish_reason ?? 'stop' }
          : { index: c.index ?? 0, text: '', logprobs: null, finish_reason: c.finish_reason ?? 'stop' },
      ),
    }),
  );
  if (includeUsage && j.usage) events.push(JSON.stringify({ ...base, choices: [], usage: j.usage }));
  return events;
}
