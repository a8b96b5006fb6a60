// The clocks of one upstream attempt, started once its response headers are in (until then
// undici's own headers timeout counts the same budget): a non-streamed answer must be complete
// within timeout_s; a stream must send its first content event within first_token_timeout_s and
// then never fall silent for idle_timeout_s. The relay tells what came and when (comments are not
// events), so one timer suffices: it wakes when the limit could first be reached, and re-arms.
import type { RelayProgress } from '../relay-progress.js';
import type { ProviderClient } from '../upstream.js';

/** What the clock reads of a stream relay. */
export type ClockedRelay = Pick<RelayProgress, 'sawContent' | 'lastDataAt'>;

const seconds = (ms: number) => `${Math.round(ms) / 1000} s`;

export class AttemptClock {
  /** why the clock ran out (null while it has not) */
  expired: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** onExpire aborts the attempt; the code awaiting it then finds `expired` set. */
  constructor(private readonly onExpire: () => void) {}

  /** From t0 (the attempt's start); relay() is the current stream's relay, null before it exists. */
  start(client: ProviderClient, stream: boolean, t0: number, relay: () => ClockedRelay | null): void {
    this.expired = null;
    if (!stream) {
      const left = Math.max(0, client.timeoutMs - (performance.now() - t0));
      this.timer = setTimeout(() => this.expire(`no complete answer within ${seconds(client.timeoutMs)}`), left);
      return;
    }
    const check = () => {
      const r = relay();
      const now = performance.now();
      if (r === null || !r.sawContent) {
        const waited = now - t0;
        if (waited >= client.firstTokenMs) return this.expire(`no first token within ${seconds(client.firstTokenMs)}`);
        this.timer = setTimeout(check, client.firstTokenMs - waited);
        return;
      }
      const silent = now - r.lastDataAt;
      if (silent >= client.idleMs) return this.expire(`no event for ${seconds(client.idleMs)}`);
      this.timer = setTimeout(check, client.idleMs - silent);
    };
    this.timer = setTimeout(check, Math.max(0, client.firstTokenMs - (performance.now() - t0)));
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private expire(reason: string): void {
    this.timer = null;
    this.expired = reason;
    this.onExpire();
  }
}
