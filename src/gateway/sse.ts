// Incremental SSE relay. Upstream bytes are forwarded as soon as an event is
// complete (never the whole stream); only `data:` lines are looked at, and only a line that
// mentions "usage" is JSON-parsed. The usage-only chunk we asked for is dropped unless the client
// asked for it too.
import { readUsage } from './cost.js';
import { RelayProgress, type ByteSink } from './relay-progress.js';

const LF = 10;
const CR = 13;
const END_OF_EVENT = Buffer.from('\n\n');
const BLANK_LF = Buffer.from('\n\n');
const BLANK_CRLF = Buffer.from('\n\r\n');
// A chunk that finishes a choice (a string finish_reason), or carries no text (the role-only
// first chunk: content ""), is no token.
const FINISH_KEY = '"finish_reason":';
const CONTENT_KEY = '"content":';

/** Whether some `key` in the JSON text is followed (after at most one space) by `value`. */
function keyFollowedBy(text: string, key: string, value: string): boolean {
  for (let i = text.indexOf(key); i !== -1; i = text.indexOf(key, i + key.length)) {
    let j = i + key.length;
    if (text.charCodeAt(j) === 32) j++;
    if (text.startsWith(value, j)) return true;
  }
  return false;
}

const isTokenChunk = (payload: string) => !keyFollowedBy(payload, FINISH_KEY, '"') && !keyFollowedBy(payload, CONTENT_KEY, '""');

/** One SSE event (the bytes up to its blank line) is longer than the bound. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`an SSE event larger than max_response_bytes (${limit} bytes)`);
    this.name = 'SseEventTooLarge';
  }
}

/**
 * The chat and completions relay: sawContent means a data event other than [DONE] and the
 * usage-only chunk. Its token count is each such event, less the first when it carries no text
 * (the role-only chunk) and the last when it finishes the choice or is empty; it is worked out
 * only when asked for (an answer that ended early), so an ordinary stream pays one increment per
 * event for it. A chunk with no text in the middle of a stream (rare: n > 1 choices) counts one.
 */
export class SseRelay extends RelayProgress {
  /** data payloads in order (without [DONE]) when capturing for the cache */
  readonly events: string[] | null;
  /** the bytes of an event not complete yet, in the chunks they came in (joined once, when it completes) */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** the last two bytes held in `pending` (an event's end may straddle two chunks) */
  private last1 = -1;
  private last2 = -1;
  /** content events, whether the first carried text, and where the latest one's payload is */
  private contentEvents = 0;
  private firstIsToken = false;
  private lastText: string | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  /** where the next `"usage"` is in the text being parsed (Infinity: none left), so finding it stays linear */
  private nextUsage = -1;

  constructor(
    sink: ByteSink,
    private readonly keepUsageChunk: boolean,
    capture: boolean,
    private readonly maxEventBytes: number,
  ) {
    super(sink);
    this.events = capture ? [] : null;
  }

  /** Feeds one upstream chunk; returns false when the client applied backpressure. */
  feed(chunk: Buffer): boolean {
    this.writable = true;
    if (this.pendingBytes === 0) this.parse(chunk);
    else if (!this.endsEvent(chunk)) this.hold(chunk);
    else {
      // Only now is the open event copied, once: parsing stays linear however many chunks it spans.
      const buf = Buffer.concat([...this.pending, chunk], this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
      this.parse(buf);
    }
    return this.writable;
  }

  /** The upstream ended: an unterminated last event still counts. */
  end(): boolean {
    if (this.pendingBytes > 0) return this.feed(END_OF_EVENT);
    return true;
  }

  /** Whether this chunk holds the blank line that ends the open event (looking only at the chunk). */
  private endsEvent(c: Buffer): boolean {
    const c0 = c[0];
    if (c0 === LF && (this.last1 === LF || (this.last1 === CR && this.last2 === LF))) return true;
    if (c0 === CR && c.length > 1 && c[1] === LF && this.last1 === LF) return true;
    return c.indexOf(BLANK_LF) !== -1 || c.indexOf(BLANK_CRLF) !== -1;
  }

  private hold(b: Buffer): void {
    if (b.length === 0) return;
    this.pendingBytes += b.length;
    if (this.pendingBytes > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
    this.pending.push(b);
    this.last2 = b.length > 1 ? b[b.length - 2] : this.last1;
    this.last1 = b[b.length - 1];
  }

  /**
   * The chunk is read as latin1, one character per byte, so positions in the text are positions in
   * the bytes, and every marker looked for (newlines, `data:`, `[DONE]`, `"usage"`) is ASCII,
   * which UTF-8 never uses inside another character. String searches are inlined by the JIT,
   * where each Buffer.indexOf or compare is a native call, and this runs for every line of every
   * stream. Only a payload that is kept or parsed is decoded, as UTF-8, from the bytes.
   */
  private parse(buf: Buffer): void {
    const text = buf.toString('latin1');
    this.nextUsage = -1;
    let eventStart = 0;
    let emitFrom = 0;
    let lineStart = 0;
    let dataStart = -1;
    let dataEnd = -1;
    for (;;) {
      const nl = text.indexOf('\n', lineStart);
      if (nl === -1) break;
      let lineEnd = nl;
      if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
      if (lineEnd === lineStart) {
        if (nl + 1 - eventStart > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
        // A data event the relay drops, or (before any data) a comment: a keep-alive is not an answer.
        const drop = dataStart >= 0 ? !this.onData(buf, text, dataStart, dataEnd) : this.dataEvents === 0;
        if (drop) {
          if (eventStart > emitFrom) this.send(buf.subarray(emitFrom, eventStart));
          emitFrom = nl + 1;
        }
        eventStart = nl + 1;
        dataStart = -1;
      } else if (lineEnd - lineStart >= 5 && text.startsWith('data:', lineStart)) {
        dataStart = lineStart + 5;
        if (text.charCodeAt(dataStart) === 32) dataStart++;
        dataEnd = lineEnd;
      }
      lineStart = nl + 1;
    }
    if (eventStart > emitFrom) this.send(buf.subarray(emitFrom, eventStart));
    if (eventStart < buf.length) this.hold(buf.subarray(eventStart));
  }

  /** Looks at one event's data (text[s, e), the same span of buf); false = drop the event. */
  private onData(buf: Buffer, text: string, s: number, e: number): boolean {
    this.noteDataEvent();
    if (e - s === 6 && text.startsWith('[DONE]', s)) {
      // Held back: the gateway sends [DONE] itself once the usage row is written.
      this.sawDone = true;
      return false;
    }
    const events = this.events;
    if (events) events.push(buf.toString('utf8', s, e));
    if (this.nextUsage < s) {
      const at = text.indexOf('"usage"', s);
      this.nextUsage = at === -1 ? Infinity : at;
    }
    if (this.nextUsage < e) {
      try {
        const obj = JSON.parse(buf.toString('utf8', s, e)) as { usage?: unknown; choices?: unknown };
        if (obj.usage) {
          this.usage = readUsage(obj.usage);
          if (Array.isArray(obj.choices) && obj.choices.length === 0) return this.keepUsageChunk;
        }
      } catch {
        // not JSON: relay as is, the client decides
      }
    }
    this.sawContent = true;
    if (++this.contentEvents === 1) this.firstIsToken = isTokenChunk(text.slice(s, e));
    else {
      this.lastText = text;
      this.lastStart = s;
      this.lastEnd = e;
    }
    return true;
  }

  override countedTokens(): number {
    let n = this.contentEvents;
    if (n > 0 && !this.firstIsToken) n--;
    if (this.lastText !== null && !isTokenChunk(this.lastText.slice(this.lastStart, this.lastEnd))) n--;
    return n;
  }
}

/** A cached event is the usage-only chunk (replayed only to clients that asked for usage). */
export function isUsageOnlyEvent(payload: string): boolean {
  if (!payload.includes('"usage"')) return false;
  try {
    const o = JSON.parse(payload) as { usage?: unknown; choices?: unknown };
    return !!o.usage && Array.isArray(o.choices) && o.choices.length === 0;
  } catch {
    return false;
  }
}

interface JsonChoice {
  index?: number;
  message?: { role?: string; content?: unknown };
  text?: string;
  delta?: { role?: string; content?: unknown };
  finish_reason?: unknown;
}

/**
 * A stored non-streamed answer replayed to a streaming client: one content chunk, a finish
 * chunk and the usage-only chunk, as an upstream would have sent them.
 */
export function jsonToEvents(body: string): string[] {
  const o = JSON.parse(body) as { id?: string; object?: string; created?: number; model?: string; choices?: JsonChoice[]; usage?: unknown };
  const chat = o.object !== 'text_completion';
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const base = { id: o.id, object, created: o.created, model: o.model };
  const out: string[] = [];
  for (const c of o.choices ?? []) {
    const index = c.index ?? 0;
    const content = chat ? { index, delta: { role: c.message?.role ?? 'assistant', content: c.message?.content ?? '' }, finish_reason: null } : { index, text: c.text ?? '', finish_reason: null };
    out.push(JSON.stringify({ ...base, choices: [content] }));
    const fin = chat ? { index, delta: {}, finish_reason: c.finish_reason ?? 'stop' } : { index, text: '', finish_reason: c.finish_reason ?? 'stop' };
    out.push(JSON.stringify({ ...base, choices: [fin] }));
  }
  if (o.usage) out.push(JSON.stringify({ ...base, choices: [], usage: o.usage }));
  return out;
}

/** A stored streamed answer replayed to a non-streaming client: the chunks assembled into one body. */
export function eventsToJson(events: string[]): string {
  let base: { id?: string; created?: number; model?: string; object?: string } = {};
  let usage: unknown = undefined;
  const choices = new Map<number, { role: string; text: string; finish: unknown }>();
  for (const e of events) {
    const o = JSON.parse(e) as { id?: string; created?: number; model?: string; object?: string; choices?: JsonChoice[]; usage?: unknown };
    if (!base.id) base = o;
    if (o.usage) usage = o.usage;
    for (const c of o.choices ?? []) {
      const index = c.index ?? 0;
      const cur = choices.get(index) ?? { role: 'assistant', text: '', finish: null };
      if (c.delta?.role) cur.role = c.delta.role;
      if (typeof c.delta?.content === 'string') cur.text += c.delta.content;
      if (typeof c.text === 'string') cur.text += c.text;
      if (c.finish_reason) cur.finish = c.finish_reason;
      choices.set(index, cur);
    }
  }
  const chat = base.object !== 'text_completion';
  return JSON.stringify({
    id: base.id,
    object: chat ? 'chat.completion' : 'text_completion',
    created: base.created,
    model: base.model,
    choices: [...choices].map(([index, c]) =>
      chat
        ? { index, message: { role: c.role, content: c.text }, finish_reason: c.finish ?? 'stop' }
        : { index, text: c.text, finish_reason: c.finish ?? 'stop' },
    ),
    ...(usage ? { usage } : {}),
  });
}
