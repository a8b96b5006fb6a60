// When the console asks the gateway for figures that move with traffic (budget spend, engine
// figures, routing state). While requests flow (the usage log grows), work is in flight, or for
// a quiet period after either, they are read at every refresh; on a quiet box only once a quiet
// period (the units' rhythm, a few seconds), which is still often enough for what moves with
// time alone (a rolling window's spend leaving it, a scrape that starts failing). An idle console
// asked three HTTP questions a second of a gateway whose answers could not change, and each
// question cost it about as much as drawing a frame.
export class PollRhythm {
  private lastVersion: unknown = undefined;
  private changedAt = -Infinity;
  private answeredAt = -Infinity;

  constructor(
    /** what changes with traffic: the usage log's newest row id */
    private readonly version: () => unknown,
    private readonly quietEveryMs: number,
  ) {}

  /** Whether to ask now; `busy` when the last answer shows work going on. */
  due(now: number, busy = false): boolean {
    const v = this.version();
    if (v !== this.lastVersion) {
      this.lastVersion = v;
      this.changedAt = now;
    }
    return busy || now - this.changedAt < this.quietEveryMs || now - this.answeredAt >= this.quietEveryMs;
  }

  /** Something moved that the figures follow (an operator's action): ask at every refresh again for a while. */
  touch(now: number): void {
    this.changedAt = now;
  }

  /** The question got its answer; one without an answer is asked again at the next refresh. */
  answered(now: number): void {
    this.answeredAt = now;
  }
}
