// When the dashboard redraws. Every redraw re-lays and re-measures the whole screen in Ink,
// so data changes are not drawn one by one: a change schedules one frame a short while later
// (collecting whatever else changes meanwhile), and a clock tick draws one when nothing did,
// so uptimes and countdowns advance. Keys and resizes still draw at once (React state).
// Sources that report on their own clocks (the GPU stream, the host monitor, the usage log)
// are out of phase with each other: data frames keep a minimum gap, so changes that arrive
// within one refresh share one frame instead of each drawing its own.
import { ValueStore, type Store } from '../../system/store.js';
import { isDue } from '../../system/due.js';

export class FrameClock extends ValueStore<number> {
  private pending: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private lastFrameAt = 0;

  constructor(
    /** how long a change waits for others before it is drawn */
    private readonly gatherMs: number,
    /** a frame at least this often (the clock in the title, countdowns) */
    private readonly tickMs: number,
    /** data frames at most this often: later changes wait and join the next one */
    private readonly minGapMs = 0,
  ) {
    super(Date.now());
  }

  /** Redraw soon: called by every data store when it changes. */
  notify = (): void => {
    if (this.pending) return;
    const sinceFrame = Date.now() - this.lastFrameAt;
    this.pending = setTimeout(this.flush, Math.max(this.gatherMs, this.minGapMs - sinceFrame));
    this.pending.unref();
  };

  /** Redraw on every change of these stores; returns the unsubscriber. */
  follow(stores: ReadonlyArray<Store<unknown>>): () => void {
    const offs = stores.map((s) => s.subscribe(this.notify));
    return () => offs.forEach((off) => off());
  }

  start(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      // a data frame came recently, or one is on its way: the clock can wait for it
      if (!this.pending && isDue(this.lastFrameAt, this.tickMs, Date.now())) this.flush();
    }, this.tickMs);
    this.ticker.unref();
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    if (this.ticker) clearInterval(this.ticker);
    this.pending = null;
    this.ticker = null;
  }

  private flush = (): void => {
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    this.lastFrameAt = Date.now();
    this.set(this.lastFrameAt);
  };
}
