// The cache key: SHA-256 of the canonical JSON (keys sorted at every level) of the
// endpoint, the logical model and every generation parameter. `stream` and `stream_options`
// only change the framing of the same answer, and `user` only who asked, so they are left out:
// a streamed and a plain request for the same thing share one entry.
import { createHash } from 'node:crypto';
import type { Endpoint } from '../context.js';

const EXCLUDED = new Set(['stream', 'stream_options', 'user']);

function canonical(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    // undefined (absent) and functions cannot come from JSON; numbers and strings serialise canonically
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      canonical(value[i], out);
    }
    out.push(']');
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  out.push('{');
  let first = true;
  for (const k of keys) {
    if (obj[k] === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    canonical(obj[k], out);
  }
  out.push('}');
}

/** Canonical JSON: object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  canonical(value, out);
  return out.join('');
}

export function cacheKey(endpoint: Endpoint, logicalModel: string, body: Record<string, unknown>): string {
  const params: Record<string, unknown> = {};
  for (const k of Object.keys(body)) if (!EXCLUDED.has(k) && k !== 'model') params[k] = body[k];
  return createHash('sha256').update(canonicalJson({ endpoint, model: logicalModel, params })).digest('hex');
}
