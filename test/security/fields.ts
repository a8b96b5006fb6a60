// Realistic request bodies with one slot left for a secret, one body per field an upstream
// would receive: for the guardrail suites (unit and fault) to put every kind through every field.
export type Endpoint = 'chat' | 'completions' | 'embeddings' | 'responses';
export interface FieldCase {
  name: string;
  endpoint: Endpoint;
  path: string;
  body: (s: string) => Record<string, unknown>;
}

const PATHS: Record<Endpoint, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
};

const msgs = (content: unknown, extra: Record<string, unknown> = {}) => [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content, ...extra },
];
const tool = (over: Record<string, unknown>) => ({
  type: 'function',
  function: {
    name: 'lookup',
    description: 'Looks a thing up.',
    parameters: { type: 'object', properties: { q: { type: 'string', description: 'the query' } }, required: ['q'] },
    ...over,
  },
});
const nest = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : [{ type: 'text', text: 'x', content: nest(depth - 1, leaf) }]);

const chat = (name: string, body: (s: string) => Record<string, unknown>): FieldCase => ({ name, endpoint: 'chat', path: PATHS.chat, body: (s) => ({ model: 'M', ...body(s) }) });
const completions = (name: string, body: (s: string) => Record<string, unknown>): FieldCase => ({ name, endpoint: 'completions', path: PATHS.completions, body: (s) => ({ model: 'M', ...body(s) }) });

export const FIELD_CASES: FieldCase[] = [
  chat('messages[].content', (s) => ({ messages: msgs(`see ${s}`) })),
  chat('content part text', (s) => ({ messages: msgs([{ type: 'text', text: s }]) })),
  chat('content given as an object', (s) => ({ messages: msgs({ type: 'text', text: s }) })),
  chat('content nested 6 levels deep', (s) => ({ messages: msgs(nest(6, s)) })),
  chat('messages[].name', (s) => ({ messages: msgs('hi', { name: s }) })),
  chat('tool_calls arguments', (s) => ({
    messages: [...msgs('hi'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: JSON.stringify({ token: s }) } }] }],
  })),
  chat('tools[].function.description', (s) => ({ messages: msgs('hi'), tools: [tool({ description: `uses ${s}` })] })),
  chat('a tool parameter default', (s) => ({
    messages: msgs('hi'),
    tools: [tool({ parameters: { type: 'object', properties: { key: { type: 'string', default: s } } } })],
  })),
  chat('a key with the secret', (s) => ({ messages: msgs('hi'), metadata: { [s]: 'x' } })),
  chat('user', (s) => ({ messages: msgs('hi'), user: s })),
  chat('response_format.json_schema', (s) => ({
    messages: msgs('hi'),
    response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object', description: s } } },
  })),
  chat('stop', (s) => ({ messages: msgs('hi'), stop: ['END', s] })),
  chat('metadata', (s) => ({ messages: msgs('hi'), metadata: { note: s } })),
  chat('an unknown field', (s) => ({ messages: msgs('hi'), extra_body: { vendor: { deep: [s] } } })),
  completions('prompt', (s) => ({ prompt: `say ${s}` })),
  completions('prompt array', (s) => ({ prompt: ['a', s] })),
  completions('suffix', (s) => ({ prompt: 'a', suffix: s })),
  completions('stop', (s) => ({ prompt: 'a', stop: s })),
  { name: 'input', endpoint: 'embeddings', path: PATHS.embeddings, body: (s) => ({ model: 'E', input: s }) },
  { name: 'input array', endpoint: 'embeddings', path: PATHS.embeddings, body: (s) => ({ model: 'E', input: ['a', s] }) },
  { name: 'user', endpoint: 'embeddings', path: PATHS.embeddings, body: (s) => ({ model: 'E', input: 'a', user: s }) },
  { name: 'input text', endpoint: 'responses', path: PATHS.responses, body: (s) => ({ model: 'M', input: s }) },
  { name: 'instructions', endpoint: 'responses', path: PATHS.responses, body: (s) => ({ model: 'M', instructions: `${s}\n`, input: 'hi' }) },
  {
    name: 'input items',
    endpoint: 'responses',
    path: PATHS.responses,
    body: (s) => ({ model: 'M', input: [{ role: 'user', content: [{ type: 'input_text', text: s }] }] }),
  },
  {
    name: 'tools',
    endpoint: 'responses',
    path: PATHS.responses,
    body: (s) => ({ model: 'M', input: 'hi', tools: [{ type: 'function', name: 'f', description: s, parameters: { type: 'object' } }] }),
  },
];

/** Ways to hide a secret from a naive scan; each must still be found. */
export const DISGUISES: Array<[name: string, disguise: (s: string) => string]> = [
  ['as is', (s) => s],
  ['zero-width space after 2 chars', (s) => s.slice(0, 2) + '\u200B' + s.slice(2)],
  ['soft hyphen and word joiner inside', (s) => s.slice(0, 3) + '\u00AD' + s.slice(3, 6) + '\u2060' + s.slice(6)],
  ['fullwidth first letters', (s) => String.fromCharCode(s.charCodeAt(0) + 0xfee0, s.charCodeAt(1) + 0xfee0) + s.slice(2)],
];
