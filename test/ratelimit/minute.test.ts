// The sliding minute behind rpm and tpm: counts, expiry by whole seconds, the waits it names.
import { describe, expect, it } from 'vitest';
import { MinuteCounter } from '../../src/gateway/ratelimit/minute.js';
import { formatReset } from '../../src/gateway/ratelimit/callback.js';

const T0 = 1_800_000_000_000; // a whole second

describe('MinuteCounter', () => {
  it('counts requests for the current second and the 59 before it', () => {
    const c = new MinuteCounter(T0);
    c.addRequest(T0 + 300);
    c.addRequest(T0 + 10_500);
    expect(c.requests(T0 + 10_500)).toBe(2);
    expect(c.requests(T0 + 59_999)).toBe(2);
    // the first request's second leaves the window when second 60 begins
    expect(c.requests(T0 + 60_000)).toBe(1);
    expect(c.requests(T0 + 70_000)).toBe(0);
  });

  it('names the wait until enough leaves the window, always under a minute', () => {
    const c = new MinuteCounter(T0);
    c.addRequest(T0 + 300);
    c.addRequest(T0 + 300);
    c.addRequest(T0 + 5_000);
    const now = T0 + 20_250;
    expect(c.msUntilFreed('requests', 1, now)).toBe(60_000 - 20_250);
    expect(c.msUntilFreed('requests', 2, now)).toBe(60_000 - 20_250);
    expect(c.msUntilFreed('requests', 3, now)).toBe(65_000 - 20_250);
    expect(c.msUntilEmpty('requests', now)).toBe(65_000 - 20_250);
    expect(c.msUntilFreed('requests', 0, now)).toBe(0);
    // the longest wait a refusal can name: a request in this very second
    c.addRequest(T0 + 20_999);
    expect(c.msUntilEmpty('requests', T0 + 20_999)).toBeLessThan(60_000);
  });

  it('reserves tokens while in flight and counts what was used once settled', () => {
    const c = new MinuteCounter(T0);
    c.inFlightTokens += 500;
    expect(c.tokens(T0)).toBe(500);
    c.settleTokens(500, 120, T0 + 2000);
    expect(c.tokens(T0 + 2000)).toBe(120);
    expect(c.tokens(T0 + 62_000)).toBe(0);
    // settling never leaves a negative reservation behind
    c.settleTokens(10, 0, T0 + 62_000);
    expect(c.inFlightTokens).toBe(0);
  });

  it('a long silence clears everything at once', () => {
    const c = new MinuteCounter(T0);
    for (let i = 0; i < 100; i++) c.addRequest(T0 + i * 100);
    expect(c.requests(T0 + 9_999)).toBe(100);
    expect(c.requests(T0 + 3_600_000)).toBe(0);
    expect(c.msUntilEmpty('requests', T0 + 3_600_000)).toBe(0);
  });
});

describe('formatReset', () => {
  it('writes durations as OpenAI does', () => {
    expect(formatReset(20)).toBe('20ms');
    expect(formatReset(1500)).toBe('1.5s');
    expect(formatReset(59_700)).toBe('59.7s');
    expect(formatReset(60_000)).toBe('1m0s');
    expect(formatReset(-5)).toBe('0ms');
  });
});
