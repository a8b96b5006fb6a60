// Requests and tokens over a sliding minute, as a ring of 60 one-second buckets: counting,
// reading and rolling forward are O(1) (a roll clears at most 60 slots, amortised over the
// seconds it skips). The window is the current second and the 59 before it, so a refusal can
// always name a wait under a minute, which OpenAI's SDKs honour (they ignore longer ones).

export const WINDOW_SECONDS = 60;
const SECOND_MS = 1000;

export class MinuteCounter {
  private readonly requestsAt = new Float64Array(WINDOW_SECONDS);
  private readonly tokensAt = new Float64Array(WINDOW_SECONDS);
  /** index (epoch ms / 1000) of the newest bucket */
  private current: number;
  private requestTotal = 0;
  private tokenTotal = 0;
  /** tokens estimated for requests admitted and not yet finished */
  inFlightTokens = 0;

  constructor(nowMs: number) {
    this.current = Math.floor(nowMs / SECOND_MS);
  }

  requests(nowMs: number): number {
    this.roll(nowMs);
    return this.requestTotal;
  }

  /** tokens used in the window, plus what requests in flight have reserved */
  tokens(nowMs: number): number {
    this.roll(nowMs);
    return this.tokenTotal + this.inFlightTokens;
  }

  addRequest(nowMs: number): void {
    this.roll(nowMs);
    this.requestsAt[this.current % WINDOW_SECONDS] += 1;
    this.requestTotal += 1;
  }

  /** Settles a finished request: its estimate leaves the reservations, what it really used is counted now. */
  settleTokens(estimate: number, used: number, nowMs: number): void {
    this.inFlightTokens = Math.max(0, this.inFlightTokens - estimate);
    if (!(used > 0)) return;
    this.roll(nowMs);
    this.tokensAt[this.current % WINDOW_SECONDS] += used;
    this.tokenTotal += used;
  }

  /**
   * How long until at least `free` more requests (or tokens) fit, counting only what leaves the
   * window with time: ms from nowMs, at most a minute. 0 when they fit already.
   */
  msUntilFreed(kind: 'requests' | 'tokens', free: number, nowMs: number): number {
    this.roll(nowMs);
    if (free <= 0) return 0;
    const at = kind === 'requests' ? this.requestsAt : this.tokensAt;
    let freed = 0;
    // oldest bucket first: bucket (current - 59 + i) leaves the window when second (current + 1 + i) begins
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      freed += at[(this.current + 1 + i) % WINDOW_SECONDS]!;
      if (freed >= free) return Math.max(1, (this.current + 1 + i) * SECOND_MS - nowMs);
    }
    return (this.current + WINDOW_SECONDS) * SECOND_MS - nowMs;
  }

  /** How long until nothing counted now is left in the window (OpenAI's "reset"). */
  msUntilEmpty(kind: 'requests' | 'tokens', nowMs: number): number {
    this.roll(nowMs);
    const at = kind === 'requests' ? this.requestsAt : this.tokensAt;
    for (let age = 0; age < WINDOW_SECONDS; age++) {
      if (at[(this.current - age + WINDOW_SECONDS) % WINDOW_SECONDS]! > 0) return (this.current - age + WINDOW_SECONDS) * SECOND_MS - nowMs;
    }
    return 0;
  }

  private roll(nowMs: number): void {
    const idx = Math.floor(nowMs / SECOND_MS);
    if (idx <= this.current) return;
    if (idx - this.current >= WINDOW_SECONDS) {
      this.requestsAt.fill(0);
      this.tokensAt.fill(0);
    } else {
      for (let i = this.current + 1; i <= idx; i++) {
        this.requestsAt[i % WINDOW_SECONDS] = 0;
        this.tokensAt[i % WINDOW_SECONDS] = 0;
      }
    }
    this.current = idx;
    // re-summed once per second stepped, not per request: float residue cannot pile up
    let r = 0;
    let t = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      r += this.requestsAt[i]!;
      t += this.tokensAt[i]!;
    }
    this.requestTotal = r;
    this.tokenTotal = t;
  }
}
