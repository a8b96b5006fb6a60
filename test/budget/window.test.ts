import { describe, expect, it } from 'vitest';
import { bucketMsFor, BUCKETS_PER_WINDOW, SpendWindow } from '../../src/gateway/budget/window.js';

const H = 3600_000;

describe('SpendWindow', () => {
  it('sums spend inside the window and forgets it once it has rolled out', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const w = new SpendWindow(H, t0);
    w.add(t0, 1, t0);
    w.add(t0 + 10 * 60_000, 2, t0 + 10 * 60_000);
    expect(w.spend(t0 + 30 * 60_000)).toBeCloseTo(3);
    // 1 h after the first add it is leaving; one bucket later it is certainly gone
    expect(w.spend(t0 + H + bucketMsFor(H) + 1)).toBeCloseTo(2);
    expect(w.spend(t0 + 2 * H)).toBe(0);
  });

  it('never undercounts: spend exactly one window old still counts, one window + one bucket old does not', () => {
    const t0 = Date.UTC(2026, 0, 1, 12);
    const w = new SpendWindow(H, t0);
    w.add(t0 - H + 1, 5, t0);
    expect(w.spend(t0)).toBe(5);
    w.add(t0 - H - 2 * bucketMsFor(H), 7, t0);
    expect(w.spend(t0)).toBe(5);
  });

  it('ignores spend older than the window and clamps future timestamps to now', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const w = new SpendWindow(H, t0);
    w.add(t0 - 3 * H, 9, t0);
    w.add(t0 + 10 * H, 4, t0); // clock skew: counted now, not in a bucket hours ahead
    expect(w.spend(t0)).toBe(4);
    expect(w.spend(t0 + H + 2 * bucketMsFor(H))).toBe(0);
  });

  it('a jump longer than the whole window clears everything', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const w = new SpendWindow(60_000, t0);
    for (let i = 0; i < 100; i++) w.add(t0, 0.01, t0);
    expect(w.spend(t0)).toBeCloseTo(1);
    expect(w.spend(t0 + 365 * 24 * H)).toBe(0);
  });

  it('stays exact over many small adds and rolls (no float drift left behind)', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const w = new SpendWindow(60_000, t0);
    let t = t0;
    for (let i = 0; i < 100_000; i++) {
      t += 7;
      w.add(t, 0.1, t);
    }
    // everything older than the window has rolled out; what remains is ~60-61 s of adds
    const s = w.spend(t);
    expect(s).toBeGreaterThanOrEqual((60_000 / 7) * 0.1 - 0.2);
    expect(s).toBeLessThanOrEqual((61_000 / 7) * 0.1 + 0.2);
    expect(w.spend(t + 3 * 60_000)).toBe(0);
  });

  it('bucket size is a whole second and about 1/240 of the window', () => {
    expect(bucketMsFor(10_000)).toBe(1000);
    expect(bucketMsFor(24 * H)).toBe((24 * H) / BUCKETS_PER_WINDOW);
    expect(bucketMsFor(30 * 24 * H) % 1000).toBe(0);
  });
});

describe('msUntilBelow', () => {
  it('is when the oldest spend leaves the window, 0 when already below, null when it never can be', () => {
    const hour = 3600_000;
    const t0 = Date.UTC(2026, 0, 1);
    const w = new SpendWindow(hour, t0);
    w.add(t0, 1, t0);
    w.add(t0 + 30 * 60_000, 2, t0 + 30 * 60_000);
    const now = t0 + 40 * 60_000;
    expect(w.msUntilBelow(10, now)).toBe(0);
    expect(w.msUntilBelow(0, now)).toBeNull();
    // below 2.5 once the first $1 has gone: an hour (and at most one bucket) after it was spent
    const first = w.msUntilBelow(2.5, now)!;
    expect(first).toBeGreaterThanOrEqual(hour - 40 * 60_000);
    expect(first).toBeLessThanOrEqual(hour - 40 * 60_000 + w.bucketMs);
    // below 0.5 only once both have gone
    const both = w.msUntilBelow(0.5, now)!;
    expect(both).toBeGreaterThanOrEqual(hour - 10 * 60_000);
    expect(w.spend(now + both)).toBeLessThan(0.5);
    expect(w.spend(now + first)).toBeLessThan(2.5);
  });
});
