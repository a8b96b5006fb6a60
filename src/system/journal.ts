// journalctl's `-o json` output, one entry a line, read into what the journal view shows. The
// format (systemd's "Journal JSON Format"): every value is a string, except a value with
// control characters or invalid UTF-8, which comes as an array of its bytes, a value journalctl
// left out for size (over 4096 bytes without --all), which is null, and a field with several
// values, which is an array of those. PRIORITY is syslog's 0 (emerg) … 7 (debug), as a string.
export interface JournalEntry {
  /** __REALTIME_TIMESTAMP (µs since the epoch) in ms, or null */
  timeMs: number | null;
  /** 0–7, or null when the entry has none */
  priority: number | null;
  /** SYSLOG_IDENTIFIER, else _COMM */
  identifier: string | null;
  pid: string | null;
  /** MESSAGE as text (bytes decoded as UTF-8, invalid ones as U+FFFD); null when journalctl left it out */
  message: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** One value as text: a string, bytes decoded, the first of several values; else null. */
export function journalText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (!Array.isArray(value) || value.length === 0) return null;
  if (value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return utf8.decode(Uint8Array.from(value as number[]));
  return journalText(value[0]);
}

/** One line of `journalctl -o json`, or null when it is not an entry. */
export function parseJournalEntry(line: string): JournalEntry | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const f = o as Record<string, unknown>;
  const us = Number(journalText(f.__REALTIME_TIMESTAMP));
  const priority = Number(journalText(f.PRIORITY));
  return {
    timeMs: Number.isFinite(us) && us > 0 ? Math.floor(us / 1000) : null,
    priority: Number.isInteger(priority) && priority >= 0 && priority <= 7 ? priority : null,
    identifier: journalText(f.SYSLOG_IDENTIFIER) ?? journalText(f._COMM),
    pid: journalText(f._PID) ?? journalText(f.SYSLOG_PID),
    message: journalText(f.MESSAGE),
  };
}
