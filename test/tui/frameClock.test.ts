// The frame clock: sources that report out of phase share frames instead of each drawing one,
// and the clock tick draws only when no data frame did or is about to. Fake timers make the
// schedule exact; nothing here depends on how fast the machine is.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameClock } from '../../src/tui/data/frameClock.js';
import { ValueStore } from '../../src/system/store.js';

describe('FrameClock', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  function clockWithFrames(gatherMs: number, tickMs: number, minGapMs?: number) {
    const clock = new FrameClock(gatherMs, tickMs, minGapMs);
    const frames: number[] = [];
    clock.subscribe(() => frames.push(Date.now() - 1_000_000));
    return { clock, frames };
  }

  it('draws two sources half a refresh out of phase as one frame a refresh', () => {
    const { clock, frames } = clockWithFrames(200, 1000, 1000);
    const gpu = new ValueStore(0);
    const host = new ValueStore(0);
    clock.follow([gpu, host]);
    clock.start();
    for (let s = 0; s < 10; s++) {
      vi.advanceTimersByTime(250);
      gpu.set(s + 1);
      vi.advanceTimersByTime(500);
      host.set(s + 1);
      vi.advanceTimersByTime(250);
    }
    // ten seconds of changes twice a second: about one frame a second, never two within a refresh
    expect(frames.length).toBeGreaterThanOrEqual(9);
    expect(frames.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < frames.length; i++) expect(frames[i] - frames[i - 1]).toBeGreaterThanOrEqual(1000);
    clock.stop();
  });

  it('draws the first change after a quiet spell after the gather delay, not a whole refresh later', () => {
    const { clock, frames } = clockWithFrames(200, 1000, 1000);
    const store = new ValueStore(0);
    clock.follow([store]);
    vi.advanceTimersByTime(5000);
    store.set(1);
    vi.advanceTimersByTime(199);
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(frames).toEqual([5200]);
  });

  it('keeps the tick for the clock when nothing changes, and skips it while a data frame is due', () => {
    const { clock, frames } = clockWithFrames(200, 1000, 1000);
    const store = new ValueStore(0);
    clock.follow([store]);
    clock.start();
    vi.advanceTimersByTime(3000);
    expect(frames).toEqual([1000, 2000, 3000]);
    vi.advanceTimersByTime(900);
    store.set(1); // due after the gather delay, at 4100: the tick at 4000 does not draw a frame of its own
    vi.advanceTimersByTime(100);
    expect(frames).toEqual([1000, 2000, 3000]);
    vi.advanceTimersByTime(100);
    expect(frames).toEqual([1000, 2000, 3000, 4100]);
    clock.stop();
  });

  it('without a gap draws each change after the gather delay (the component harness)', () => {
    const { clock, frames } = clockWithFrames(10, 1000);
    const store = new ValueStore(0);
    clock.follow([store]);
    store.set(1);
    vi.advanceTimersByTime(10);
    store.set(2);
    vi.advanceTimersByTime(10);
    expect(frames).toEqual([10, 20]);
  });
});
