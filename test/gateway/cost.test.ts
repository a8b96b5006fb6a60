// Usage an upstream reports is outside input too: a provider (or anything answering on its
// port) that reports negative, fractional or 1e309 token counts must neither make a request free
// nor put Infinity into the usage log and the budgets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costUsd, MAX_USAGE_TOKENS, readUsage } from '../../src/gateway/cost.js';

const PRICE = { input_usd_per_1m: 1000, output_usd_per_1m: 2000 };

describe('readUsage', () => {
  it('keeps ordinary counts', () => {
    expect(readUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(readUsage({ prompt_tokens: 10, completion_tokens: 5 })).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(readUsage(null)).toBeNull();
    expect(readUsage('usage')).toBeNull();
  });

  it('Infinity (JSON 1e309) is held at the bound, so it costs the most, not nothing', () => {
    const u = readUsage(JSON.parse('{"prompt_tokens":1e309,"completion_tokens":1e309}'))!;
    expect(u.prompt_tokens).toBe(MAX_USAGE_TOKENS);
    expect(u.completion_tokens).toBe(MAX_USAGE_TOKENS);
    expect(Number.isFinite(costUsd(PRICE, u))).toBe(true);
    expect(costUsd(PRICE, u)).toBeGreaterThan(1000);
  });

  it('negative counts are 0, fractions are rounded up, a total below its parts is the sum', () => {
    expect(readUsage({ prompt_tokens: -1e6, completion_tokens: 2.2, total_tokens: -5 })).toEqual({ prompt_tokens: 0, completion_tokens: 3, total_tokens: 3 });
  });

  it('any value at all: finite, non-negative integers, and a finite non-negative cost', () => {
    const anyCount = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Infinity, -Infinity, NaN, '12', null, true, {}));
    fc.assert(
      fc.property(anyCount, anyCount, anyCount, (p, c, t) => {
        const u = readUsage({ prompt_tokens: p, completion_tokens: c, total_tokens: t })!;
        for (const v of [u.prompt_tokens, u.completion_tokens, u.total_tokens]) {
          expect(Number.isSafeInteger(v) && v >= 0 && v <= 2 * MAX_USAGE_TOKENS).toBe(true);
        }
        expect(u.total_tokens).toBeGreaterThanOrEqual(u.prompt_tokens + u.completion_tokens);
        const cost = costUsd(PRICE, u);
        expect(Number.isFinite(cost) && cost >= 0).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
