// What the simulated upstream counts and makes from request text: one token per word (so tests
// can assert exact usage), and a deterministic embedding vector.

function countWords(value: unknown): number {
  if (typeof value === 'string') {
    let n = 0;
    for (const w of value.split(/\s+/)) if (w) n++;
    return n;
  }
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += countWords(v);
    return n;
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('content' in o) return countWords(o.content);
    if ('text' in o) return countWords(o.text);
    if ('output' in o) return countWords(o.output);
  }
  return 0;
}

export function promptTokens(body: Record<string, unknown>): number {
  const n = countWords(body.messages ?? body.prompt ?? body.input) + countWords(body.instructions);
  return Math.max(1, n);
}

/** A deterministic 8-dimensional vector from the text (stable across runs). */
export function embed(text: string): number[] {
  const v = new Array<number>(8).fill(0);
  for (let i = 0; i < text.length; i++) v[i % 8] += text.charCodeAt(i) / 1000;
  return v.map((x) => Math.round(x * 1e6) / 1e6);
}
