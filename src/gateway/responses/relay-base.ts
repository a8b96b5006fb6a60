// What the two Responses stream relays share: upstream's SSE parsed by eventsource-parser, the
// terminal frame held back until the usage row is written, the final Response kept for the cache,
// and how an upstream failure or an event that is not JSON ends the answer.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { RelayProgress, type ByteSink } from '../relay-progress.js';

type Obj = Record<string, unknown>;

export abstract class ResponsesRelayBase extends RelayProgress {
  /** the response.completed (or .incomplete) frame, sent by the gateway after the row is written */
  terminalFrame: string | null = null;
  /** the final Response object, for the cache */
  finalResponse: Obj | null = null;
  /** what upstream reported when the answer failed (an `error` or `response.failed` event) */
  upstreamFailure: string | null = null;
  /** upstream sent an event that is not what it should be: the answer stops there (and fails) */
  invalidEvent = false;
  private readonly parser: EventSourceParser;

  constructor(sink: ByteSink) {
    super(sink);
    this.parser = createParser({ onEvent: (e) => this.onEvent(e.event, e.data) });
  }

  /** The sequence number an `error` event after the last written one carries. */
  abstract get nextSequence(): number;

  protected abstract onEvent(name: string | undefined, data: string): void;

  feed(chunk: Buffer): boolean {
    this.writable = true;
    this.parser.feed(chunk.toString('utf8'));
    return this.writable;
  }

  end(): boolean {
    this.parser.feed('\n\n');
    return this.writable;
  }

  protected sendText(text: string): void {
    this.send(Buffer.from(text));
  }
}
