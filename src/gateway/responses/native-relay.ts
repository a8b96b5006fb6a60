// A Responses API stream from a provider that serves it, passed to the client event by event.
// Each event is looked at once: usage comes from the terminal event's response (completed or
// incomplete), which is held back until the usage row is written; an `error` or
// `response.failed` event from upstream is passed on and ends the answer as a failure.
import type { ByteSink } from '../relay-progress.js';
import { readResponsesUsage } from './builder.js';
import { ResponsesRelayBase } from './relay-base.js';

type Obj = Record<string, unknown>;

const TERMINAL = new Set(['response.completed', 'response.incomplete']);
const FAILED = new Set(['error', 'response.failed']);

export class NativeResponsesRelay extends ResponsesRelayBase {
  private lastSequence = -1;

  constructor(sink: ByteSink) {
    super(sink);
  }

  get nextSequence(): number {
    return this.lastSequence + 1;
  }

  protected onEvent(name: string | undefined, data: string): void {
    this.noteDataEvent();
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
      this.sendText(frame);
      return;
    }
    if (type.endsWith('.delta')) {
      this.sawContent = true;
      this.completionTokens++;
    }
    this.sendText(frame);
  }
}
