// The end of the gateway's log file: why a child died, and a request's failed attempts (the
// log view follows the file itself: data/fileFollower.ts).
import fs from 'node:fs';

/** The last `maxBytes` of a file as text (a first, partial line dropped), or null if unreadable. */
export function readTail(file: string, maxBytes: number): string | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      const text = buf.toString('utf8');
      return len < size ? text.slice(text.indexOf('\n') + 1) : text;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

/**
 * A request's failed upstream attempts, as the gateway logged them (`upstream_attempt_failed`),
 * oldest first, from the end of the log: "provider/model: kind detail".
 */
export function failedAttempts(file: string, requestId: string, maxBytes = 2 * 1024 * 1024): string[] {
  const text = readTail(file, maxBytes);
  if (text === null || !text.includes(requestId)) return [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(requestId)) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o?.event !== 'upstream_attempt_failed' || o.request_id !== requestId) continue;
      out.push(`${String(o.provider)}/${String(o.model)}: ${String(o.kind ?? 'failed')} ${String(o.detail ?? '')}`.trim());
    } catch {
      // not one of the gateway's JSON lines
    }
  }
  return out;
}

