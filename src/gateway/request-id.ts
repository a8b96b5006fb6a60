// The ids the gateway gives requests that arrive without one: UUIDv7 (RFC 9562), whose first 48
// bits are the Unix time in ms. Time-ordered ids land at the end of the usage log's request-id
// index, so a row's commit writes the index page it wrote last time instead of a random one (a
// random v4 id dirties a different page per row, and the checkpoint copies each of them).
import { randomUUID } from 'node:crypto';

/**
 * A version 7 UUID: the time in ms, then randomUUID's random bits (its version nibble replaced,
 * its variant bits kept). Ids of one millisecond are in random order among themselves.
 */
export function timeOrderedId(nowMs: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  const ms = Number.isFinite(nowMs) && nowMs > 0 ? Math.floor(nowMs) % 2 ** 48 : 0;
  // the time part changes once a millisecond; requests of the same one reuse it
  if (ms !== prefixMs) {
    const t = ms.toString(16).padStart(12, '0');
    prefix = `${t.slice(0, 8)}-${t.slice(8)}-7`;
    prefixMs = ms;
  }
  return prefix + random.slice(15);
}

let prefixMs = -1;
let prefix = '';
