// The tool calls the simulated upstream makes: a request with function tools and no tool result
// in its conversation yet gets a call of the first tool, with arguments that satisfy the tool's
// JSON schema (SDKs validate them), in either API.
type Obj = Record<string, any>;

/** Arguments that satisfy a JSON schema's required properties (so SDKs that validate accept them). */
export function argumentsFor(schema: unknown): Obj {
  const out: Obj = {};
  const s = (schema ?? {}) as Obj;
  const props = (s.properties ?? {}) as Record<string, Obj>;
  const required: string[] = Array.isArray(s.required) ? s.required : Object.keys(props);
  for (const name of required) {
    const p = props[name] ?? {};
    const type = Array.isArray(p.type) ? p.type[0] : p.type;
    if (Array.isArray(p.enum) && p.enum.length > 0) out[name] = p.enum[0];
    else if (type === 'number' || type === 'integer') out[name] = 1;
    else if (type === 'boolean') out[name] = true;
    else if (type === 'object') out[name] = argumentsFor(p);
    else if (type === 'array') out[name] = [];
    else out[name] = 'sim';
  }
  return out;
}

/** The first function tool when the conversation has no tool result yet: the sim calls it. */
export function toolToCall(tools: unknown, answered: boolean): { name: string; arguments: string } | null {
  if (answered || !Array.isArray(tools)) return null;
  for (const t of tools as Obj[]) {
    const fn = t?.type === 'function' ? (t.function ?? t) : null;
    if (fn && typeof fn.name === 'string') return { name: fn.name, arguments: JSON.stringify(argumentsFor(fn.parameters)) };
  }
  return null;
}

/** The conversation already holds a tool's result (chat `tool` message, Responses function_call_output). */
export function toolAnswered(body: Record<string, unknown>): boolean {
  const items = (Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : []) as Array<Record<string, unknown>>;
  return items.some((m) => m?.role === 'tool' || m?.type === 'function_call_output');
}

/** A chat stream's tool call as real servers send it: the head with the name, then the arguments in two pieces. */
export function chatToolCallChunks(call: { id: string; function: { name: string; arguments: string } }, base: Obj): Obj[] {
  const args = call.function.arguments;
  const half = Math.ceil(args.length / 2);
  const pieces = [
    { role: 'assistant', content: null, tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: args.slice(0, half) } }] },
    { tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] },
  ];
  return pieces.map((delta) => ({ ...base, choices: [{ index: 0, delta, finish_reason: null, logprobs: null }] }));
}
