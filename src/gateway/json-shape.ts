// What a request body may hold, checked on its text before JSON.parse: every later step
// (the parse itself, guardrails, the budget estimate, the cache key, the upstream payload) walks
// the whole value, so a body of a million tiny items would cost each of them a million steps.
// One pass counts what makes walking expensive (objects, arrays and strings), the values (commas)
// and the nesting depth, and stops at the first limit crossed: an attack is refused after reading
// only as far as its limit, and a real body's long strings are skipped by indexOf, not character by
// character. The text is a string, not the bytes: String.prototype.indexOf is inlined by the JIT,
// where each Buffer.indexOf is a native call, paid once per string of the body. The characters
// counted are all ASCII, and UTF-8 never encodes another character with an ASCII byte, so the
// decoded text holds exactly the structure the bytes do.

/**
 * JSON.parse accepts any depth, but JSON.stringify (the upstream body, the cache key) recurses
 * and overflows the stack somewhere past a few thousand levels. Real requests (tool schemas
 * included) stay far below this.
 */
export const MAX_JSON_DEPTH = 128;
/** Objects, arrays and strings (keys included): a 10,000-message chat holds about 50,000. */
export const MAX_JSON_NODES = 100_000;
/** All values: room for a 300,000-token embeddings input given as token ids (OpenAI's own cap). */
export const MAX_JSON_VALUES = 500_000;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const OPEN_ARRAY = 91;
const CLOSE_OBJECT = 125;
const CLOSE_ARRAY = 93;
const COMMA = 44;

/** Why this body is refused before it is parsed, or null. Malformed JSON is left to JSON.parse. */
export function jsonShapeProblem(text: string): string | null {
  let depth = 0;
  let nodes = 0;
  let values = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (++nodes > MAX_JSON_NODES) return `request body holds more than ${MAX_JSON_NODES} objects, arrays and strings`;
      // to the closing quote: the next one not escaped by an odd run of backslashes
      for (;;) {
        const j = text.indexOf('"', i + 1);
        if (j === -1) return null;
        let k = j - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        i = j;
        if ((j - 1 - k) % 2 === 0) break;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_JSON_DEPTH) return `request body nests objects/arrays deeper than ${MAX_JSON_DEPTH} levels`;
      if (++nodes > MAX_JSON_NODES) return `request body holds more than ${MAX_JSON_NODES} objects, arrays and strings`;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else if (c === COMMA && ++values > MAX_JSON_VALUES) return `request body holds more than ${MAX_JSON_VALUES} values`;
  }
  return null;
}
