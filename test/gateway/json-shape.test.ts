// The raw-body check that bounds every later walk: nodes, values and depth counted on the bytes,
// strings skipped whatever they hold (escaped quotes, backslash runs, brackets), and real bodies
// at the sizes clients send well inside the limits.
import { describe, expect, it } from 'vitest';
import { jsonShapeProblem, MAX_JSON_DEPTH, MAX_JSON_NODES, MAX_JSON_VALUES } from '../../src/gateway/json-shape.js';
import { parseJsonBody } from '../../src/gateway/body.js';

const shape = (v: unknown) => jsonShapeProblem(JSON.stringify(v));

describe('jsonShapeProblem', () => {
  it('a million tiny messages is refused, naming the limit, before anything parses it', () => {
    const text = `{"model":"chat","messages":[${Array(1_000_000).fill('{}').join(',')}]}`;
    expect(jsonShapeProblem(text)).toMatch(new RegExp(`more than ${MAX_JSON_NODES} objects`));
    expect(() => parseJsonBody(Buffer.from(text))).toThrow(/more than 100000 objects, arrays and strings/);
    const numbers = `{"model":"e","input":[${Array(MAX_JSON_VALUES + 2).fill('0').join(',')}]}`;
    expect(jsonShapeProblem(numbers)).toMatch(/more than 500000 values/);
  });

  it('depth is counted on the bytes: 128 levels pass, 129 do not', () => {
    const nest = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);
    expect(jsonShapeProblem(nest(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonShapeProblem(nest(MAX_JSON_DEPTH + 1))).toMatch(/deeper than 128/);
  });

  it('brackets, commas and escaped quotes inside strings do not count', () => {
    const tricky = ['[[[[{{{{,,,,', 'a\\"b', '\\\\', 'ends with a backslash \\', '"quoted" [x], {y}', ',"'.repeat(200_000)];
    expect(shape({ model: 'm', messages: tricky.map((content) => ({ role: 'user', content })) })).toBeNull();
  });

  it('real bodies pass: a 10,000-message chat, a 300,000-token embeddings input, a 10 MB prompt', () => {
    const chat = { model: 'm', messages: Array.from({ length: 10_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` })) };
    expect(shape(chat)).toBeNull();
    expect(shape({ model: 'e', input: Array.from({ length: 300 }, () => Array(1000).fill(1234)) })).toBeNull();
    expect(shape({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(10 * 1024 * 1024) }] })).toBeNull();
  });
});
