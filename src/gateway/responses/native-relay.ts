// A Responses API stream from a provider that serves it, passed to the client event by event.
// Each event is looked at once: usage comes from the terminal event's response (completed or
// incomplete), which is held back until the usage row is written; an `error` or
// `response.failed` event from upstream is passed on and ends the answer as a failure.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { TokenUsage } from '../context.js';
import type { ByteSink } from '../sse.js';
import { readResponsesUsage } from './builder.js';

type Obj = Record<string, unknown>;

const TERMINAL = new Set(['response.completed', 'response.incomplete']);
const FAILED = new Set(['error', 'response.failed']);

export class NativeResponsesRelay {
  usage: TokenUsage | null = null;
  /** a terminal event arrived (completed, incomplete, failed or error) */
  sawDone = false;
  sawContent = false;
  bytesOut = 0;
  /** upstream events seen and when the last came (the gateway's idle clock), deltas counted (an early end's charge) */
  dataEvents = 0;
  lastDataAt = 0;
  completionTokens = 0;
  terminalFrame: string | null = null;
  finalResponse: Obj | null = null;
  /** what upstream reported when the answer failed (an `error` or `response.failed` event) */
  upstreamFailure: string | null = null;
  /** upstream sent an event that is not JSON: the answer stops there (and fails) */
  invalidEvent = false;
  private lastSequence = -1;
  private readonly parser: EventSourceParser;
  private writable = true;

  constructor(private readonly sink: ByteSink) {
    this.parser = createParser({ onEvent: (e) => this.onEvent(e.event, e.data) });
  }

  get nextSequence(): number {
    return this.lastSequence + 1;
  }


  feed(chunk: Buffer): boolean {
    this.writable = true;
    this.parser.feed(chunk.toString('utf8'));
    return this.writable;
  }

  end(): boolean {
    this.parser.feed('\n\n');
    return this.writable;
  }

  private write(text: string): void {
    this.bytesOut += Buffer.byteLength(text);
    if (!this.sink.write(Buffer.from(text))) this.writable = false;
  }

  private onEvent(name: string | undefined, data: string): void {
    this.dataEvents++;
    this.lastDataAt = performance.now();
    if (this.sawDone || this.invalidEvent) return;
    let ev: Obj;
    try {
      ev = JSON.parse(data) as Obj;
    } catch {
      this.invalidEvent = true;
      return;
    }
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) {
      this.invalidEvent = true;
      return;
    }
    const type = typeof ev.type === 'string' ? ev.type : (name ?? '');
    if (typeof ev.sequence_number === 'number') this.lastSequence = ev.sequence_number;
    // Re-framed from the parsed fields: one event per frame, whatever line splitting upstream used.
    const frame = `event: ${type}\ndata: ${data}\n\n`;
    if (TERMINAL.has(type)) {
      this.sawDone = true;
      const response = (ev.response ?? null) as Obj | null;
      this.finalResponse = response;
      this.usage = readResponsesUsage(response?.usage);
      this.terminalFrame = frame;
      return;
    }
    if (FAILED.has(type)) {
      this.sawDone = true;
      const err = (type === 'error' ? ev : ((ev.response as Obj | undefined)?.error ?? {})) as Obj;
      // Only the code, bounded: an upstream message may quote the prompt.
      const code = typeof err.code === 'string' && err.code !== '' ? err.code : type;
      this.upstreamFailure = code.slice(0, 64).replace(/[^\w.-]/g, '_');
      this.write(frame);
      return;
    }
    if (type.endsWith('.delta')) {
      this.sawContent = true;
      this.completionTokens++;
    }
    this.write(frame);
  }
}
