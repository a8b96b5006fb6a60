// A store its owner refreshes on a timer, the first time at start: one refresh at a time, so a
// slow source (a gateway that takes its time to answer) never piles refreshes up behind it.
import { ValueStore } from '../../system/store.js';

export abstract class PolledStore<T> extends ValueStore<T> {
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    initial: T,
    equal: (a: T, b: T) => boolean,
    private readonly everyMs: number,
  ) {
    super(initial, equal);
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One refresh now, unless one is still running. */
  async refresh(now = Date.now()): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.poll(now);
    } finally {
      this.polling = false;
    }
  }

  protected abstract poll(now: number): Promise<void>;
}
