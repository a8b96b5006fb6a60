// The ids the gateway generates: valid version 7 UUIDs whose order follows the clock, so the
// usage log's request-id index grows at its end.
import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../src/gateway/request-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a version 7, RFC variant UUID that starts with the time in ms', () => {
    const now = Date.UTC(2026, 11, 2, 3, 4, 5, 678);
    const id = timeOrderedId(now);
    expect(id).toMatch(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts by time, and ids of one millisecond differ', () => {
    const t = Date.now();
    const ids = [t, t + 1, t + 1000, t + 86_400_000].map((ms) => timeOrderedId(ms));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(t)));
    expect(same.size).toBe(1000);
  });

  it('stays a valid id for times before 1970 or past 48 bits', () => {
    for (const ms of [-5, 0, 2 ** 48 + 7, Number.NaN]) expect(timeOrderedId(ms), String(ms)).toMatch(V7);
  });
});
