// What a following view (the journal, the gateway's log) reads while it is open: lines as they
// come, cleaned of escape sequences as they are read (this store is the boundary for them; a
// mirror would walk thousands of lines on every change), each cut to a bounded length, kept in
// a bounded ring, and announced at most once per `EMIT_MS` however fast they arrive, so a burst
// of 10,000 lines costs one redraw and a fixed amount of memory. Subclasses say where the lines
// come from; they render nothing and are tested without a terminal.
import type { Tone } from '../contexts/ThemeContext.js';
import { ValueStore, type Store } from '../../system/store.js';
import { cleanText } from './cleanText.js';
import { LineRing, type RingLine } from './lineRing.js';

export interface FollowLine extends RingLine {
  tone: Tone | null;
}

export type FollowStatus = 'starting' | 'following' | 'ended' | 'failed';

export interface FollowState {
  /** the lines held, oldest first */
  lines: readonly FollowLine[];
  /** lines read since the view opened (more than `lines` holds once old ones dropped out) */
  total: number;
  status: FollowStatus;
  /** what the view should say besides the lines: why it stopped, a rotation, a deletion */
  note: string | null;
}

/** A source of lines that runs while a view shows it. */
export interface Follower extends Store<FollowState> {
  start(): void;
  /** stops reading; resolves once every process or file it held is gone */
  stop(): Promise<void>;
  /** on a crash: end at once, synchronously */
  killNow(): void;
}

/** What a following view shows: a configured unit's journal, or the gateway's own log. */
export type FollowTarget = { kind: 'journal'; unit: string } | { kind: 'gatewayLog' };

export function followKey(t: FollowTarget): string {
  return t.kind === 'journal' ? `journal:${t.unit}` : 'gatewayLog';
}

/**
 * `f`, counted in `open` until it is stopped: the session ends whatever is still open on its
 * way out (and kills it at once on a crash).
 */
export function tracked(open: Set<Follower>, f: Follower): Follower {
  open.add(f);
  return {
    getSnapshot: () => f.getSnapshot(),
    subscribe: (listener) => f.subscribe(listener),
    start: () => f.start(),
    killNow: () => f.killNow(),
    // counted until it is really gone, so the session's way out can wait for it
    stop: () => f.stop().finally(() => open.delete(f)),
  };
}

export interface FollowLimits {
  maxLines: number;
  maxChars: number;
  lineChars: number;
}

export const FOLLOW_LIMITS: FollowLimits = { maxLines: 5000, maxChars: 2_000_000, lineChars: 4096 };
const EMIT_MS = 50;

export abstract class LineFollower extends ValueStore<FollowState> implements Follower {
  protected readonly ring: LineRing<FollowLine>;
  private emitTimer: NodeJS.Timeout | null = null;
  /** how many times the lines were announced (tests check a burst is announced in few) */
  emits = 0;

  constructor(protected readonly limits: FollowLimits = FOLLOW_LIMITS) {
    super({ lines: [], total: 0, status: 'starting', note: null });
    this.ring = new LineRing(limits.maxLines, limits.maxChars);
  }

  abstract start(): void;
  abstract stop(): Promise<void>;
  abstract killNow(): void;

  /** One line read: cut, cleaned, kept; announced soon. */
  protected add(text: string, tone: Tone | null): void {
    const cut = text.length > this.limits.lineChars ? `${text.slice(0, this.limits.lineChars - 1)}…` : text;
    this.ring.push({ text: cleanText(cut), tone });
    if (!this.emitTimer) {
      this.emitTimer = setTimeout(() => this.flush(), EMIT_MS);
      this.emitTimer.unref();
    }
  }

  /** A change of status or note, announced at once with the lines read so far. */
  protected report(status: FollowStatus, note: string | null = this.getSnapshot().note): void {
    this.flush({ status, note: note === null ? null : cleanText(note) });
  }

  protected flush(change: Partial<Pick<FollowState, 'status' | 'note'>> = {}): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    const prev = this.getSnapshot();
    const fresh = prev.total !== this.ring.total || prev.lines.length !== this.ring.length;
    const next = { ...prev, ...change };
    if (!fresh && next.status === prev.status && next.note === prev.note) return;
    if (fresh) this.emits++;
    this.set({ ...next, lines: fresh ? this.ring.toArray() : prev.lines, total: this.ring.total });
  }
}
