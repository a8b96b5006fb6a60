// Every string of a parsed JSON body, values and object keys alike, at any depth: what an
// upstream would receive, for the guardrails to scan and the budget estimate to count. An
// explicit stack instead of recursion (a deeply nested body cannot overflow it), each node
// visited once (linear), and a cap on the nodes walked so a body of a million tiny items stops
// early instead of costing seconds.

/** Where a string sits: `owner[key]` is the string, or (isKey) `key` is a key of `owner`. */
export type StringOwner = Record<string, unknown> | unknown[];
export type StringVisitor = (text: string, owner: StringOwner, key: string | number, isKey: boolean) => void;

/** More than any real request holds (a long chat with big tool schemas is a few thousand). */
export const MAX_WALK_NODES = 1_000_000;

// One stack reused by every walk (no per-request allocation beyond growth; a walk never awaits).
const stack: unknown[] = [];

/**
 * Calls visit once for each string in root (keys and values; order not specified). Returns
 * false when it stopped at maxNodes without seeing everything.
 */
export function walkStrings(root: unknown, visit: StringVisitor, maxNodes = MAX_WALK_NODES): boolean {
  if (typeof root === 'string') throw new TypeError('walkStrings needs a container; a bare string has no owner');
  let n = 0;
  let nodes = 0;
  if (root !== null && typeof root === 'object') stack[n++] = root;
  try {
    while (n > 0) {
      const v = stack[--n] as StringOwner;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) {
          if (++nodes > maxNodes) return false;
          const x = v[i];
          if (typeof x === 'string') visit(x, v, i, false);
          else if (x !== null && typeof x === 'object') stack[n++] = x;
        }
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          if (++nodes > maxNodes) return false;
          const k = keys[i]!;
          visit(k, v, k, true);
          const x = v[k];
          if (typeof x === 'string') visit(x, v, k, false);
          else if (x !== null && typeof x === 'object') stack[n++] = x;
        }
      }
    }
    return true;
  } finally {
    // drop references to this request's objects
    stack.length = 0;
  }
}

/** Total length of every string (keys included): what the upstream will tokenize. */
export function stringChars(root: unknown, maxNodes = MAX_WALK_NODES): number {
  let chars = 0;
  walkStrings(root, (t) => (chars += t.length), maxNodes);
  return chars;
}
