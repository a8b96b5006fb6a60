// What every stream relay (the chat one and both Responses ones) knows of its answer so far, in
// one place: the fallback loop reads it to decide whether another target may still be tried, the
// attempt clock reads it for the first-token and idle deadlines, and an answer that ends early is
// charged from it. The relays differ only in how they read upstream's events.
import type { TokenUsage } from './context.js';

export interface ByteSink {
  /** false = the client is slow; wait for drain */
  write(chunk: Buffer): boolean;
}

export abstract class RelayProgress {
  usage: TokenUsage | null = null;
  /** the answer's terminal event arrived (chat's [DONE], or a Responses terminal event) */
  sawDone = false;
  /** a content event has been seen (the first token) */
  sawContent = false;
  /** bytes written to the client so far: after the first one there is no fallback */
  bytesOut = 0;
  /**
   * data events seen (comments are not events), and performance.now() when the latest chunk that
   * held one was fed (the feeder stamps it: once per chunk, not per event)
   */
  dataEvents = 0;
  lastDataAt = 0;
  /** content events that carried text: ptui's count of completion tokens, for a stream without usage */
  completionTokens = 0;

  /** The completion tokens counted so far (what an answer that ends early is charged). */
  countedTokens(): number {
    return this.completionTokens;
  }
  /** false once the sink asked to wait, until the next feed */
  protected writable = true;

  constructor(protected readonly sink: ByteSink) {}

  /** Upstream bytes in; false = the client is slow, wait for its drain before feeding more. */
  abstract feed(chunk: Buffer): boolean;
  /** Upstream ended; flushes what is held. */
  abstract end(): boolean;

  protected noteDataEvent(): void {
    this.dataEvents++;
  }

  protected send(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    if (!this.sink.write(bytes)) this.writable = false;
  }
}
