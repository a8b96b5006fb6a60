// The abort signal of one upstream attempt, in the form undici also accepts: an EventEmitter with
// `aborted` that emits 'abort' once. An AbortController costs several µs a request (its
// AbortSignal is an EventTarget, and the garbage collector has more work with each one); this
// costs an object. undici, finding no reason on it, ends the call with its own RequestAbortedError.
import { EventEmitter } from 'node:events';

export class AttemptSignal extends EventEmitter {
  aborted = false;
  /** what undici reads as the abort's cause: left unset, so the error is undici's own */
  readonly reason: undefined = undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}
