// One cache entry on disk: a single JSON document holding the final, assembled response (the
// non-streamed form) and what the usage log needs. Streamed requests are answered from the same
// entry by synthesising SSE, so a plain and a streamed request share it. Anything that does not
// parse as a complete entry of this format version, for this key, is not an entry.
import type { Endpoint, TokenUsage } from '../context.js';

/** Bumped whenever the layout changes; an entry of another version is a miss and is removed. */
export const CACHE_FORMAT_VERSION = 1;

export interface CacheEntry {
  v: typeof CACHE_FORMAT_VERSION;
  key: string;
  /** epoch ms when stored; TTL counts from here */
  created_ms: number;
  endpoint: Endpoint;
  provider: string;
  concrete_model: string;
  usage: TokenUsage | null;
  /** the response body as the client got it (JSON text) */
  body: string;
}

const ENDPOINTS = new Set<string>(['chat', 'completions', 'embeddings', 'responses']);

export function serializeEntry(e: CacheEntry): string {
  return JSON.stringify(e);
}

/** The entry, or null when the text is truncated, corrupt, of another format, or for another key. */
export function parseEntry(text: string, key: string): CacheEntry | null {
  let e: Partial<CacheEntry>;
  try {
    e = JSON.parse(text) as Partial<CacheEntry>;
  } catch {
    return null;
  }
  if (
    e === null ||
    typeof e !== 'object' ||
    e.v !== CACHE_FORMAT_VERSION ||
    e.key !== key ||
    typeof e.created_ms !== 'number' ||
    typeof e.endpoint !== 'string' ||
    !ENDPOINTS.has(e.endpoint) ||
    typeof e.provider !== 'string' ||
    typeof e.concrete_model !== 'string' ||
    typeof e.body !== 'string' ||
    (e.usage !== null && typeof e.usage !== 'object')
  ) {
    return null;
  }
  try {
    JSON.parse(e.body);
  } catch {
    return null;
  }
  return e as CacheEntry;
}
