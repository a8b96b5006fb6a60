// One line of the journal and gateway-log views, from what journalctl or the gateway wrote:
// the text (not yet cleaned: the follower that reads it cleans it) and its colour. Errors red,
// warnings yellow, debug dim: by the journal's PRIORITY, by the gateway's `level`, and for a
// service that logs everything to stdout (all priority 6) by the level word its lines start with.
import type { Tone } from '../contexts/ThemeContext.js';
import type { JournalEntry } from '../../system/journal.js';
import { clock } from './format.js';

export interface LogLine {
  text: string;
  tone: Tone | null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A level word at the start of a line ("ERROR …", "WARNING:", "[warn]"): Python, Go and most servers. */
const LEADING_LEVEL = /^\W{0,3}(emerg|alert|crit(?:ical)?|fatal|panic|err(?:or)?|warn(?:ing)?|debug|trace)\b/i;

function toneOfWord(word: string): Tone | null {
  const w = word.toLowerCase();
  if (w.startsWith('warn')) return 'warn';
  if (w === 'debug' || w === 'trace') return 'dim';
  return 'bad';
}

/** syslog priority: 0–3 are errors, 4 warnings, 7 debug; 5–6 say nothing, so the text decides. */
export function journalTone(priority: number | null, message: string): Tone | null {
  if (priority !== null && priority <= 3) return 'bad';
  if (priority === 4) return 'warn';
  if (priority === 7) return 'dim';
  const m = LEADING_LEVEL.exec(message);
  return m ? toneOfWord(m[1]) : null;
}

/** "Dec 01 10:00:00 vllm[4242]: message", as `journalctl -o short` prints it, less the host. */
export function journalLine(e: JournalEntry, unit: string): LogLine {
  const d = e.timeMs === null ? null : new Date(e.timeMs);
  const when = d ? `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, '0')} ${clock(e.timeMs)}` : '–';
  const who = `${e.identifier ?? unit}${e.pid ? `[${e.pid}]` : ''}`;
  const message = e.message ?? `(a message over 4 KiB, left out: journalctl -u ${unit} -a shows it)`;
  return { text: `${when} ${who}: ${message}`, tone: e.message === null ? 'dim' : journalTone(e.priority, e.message) };
}

const LEVEL_TONE: Record<string, Tone> = { error: 'bad', fatal: 'bad', warn: 'warn', warning: 'warn', debug: 'dim' };

function fieldText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The gateway's JSON log line as "time LEVEL event: msg key=value …"; another line as it is. */
export function gatewayLogLine(line: string): LogLine {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    o = null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    const m = LEADING_LEVEL.exec(line) ?? /\b(error|fatal)\b/i.exec(line);
    return { text: line, tone: m ? toneOfWord(m[1]) : null };
  }
  const { ts, level, event, msg, message, ...rest } = o as Record<string, unknown>;
  const lvl = typeof level === 'string' ? level : '';
  const said = [msg, message].filter((x) => x !== undefined).map(fieldText).join(' ');
  const head = [typeof ts === 'string' || typeof ts === 'number' ? clock(ts) : '', lvl.toUpperCase().padEnd(5), event === undefined ? '' : fieldText(event)]
    .filter((x) => x.trim() !== '')
    .join(' ');
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${fieldText(v)}`);
  const text = [head + (said ? `: ${said}` : ''), ...fields].filter(Boolean).join(' ');
  return { text, tone: LEVEL_TONE[lvl.toLowerCase()] ?? null };
}
