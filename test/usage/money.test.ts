import { describe, expect, it } from 'vitest';
import { cleanUsd, usdReplacer } from '../../src/usage/money.js';

describe('money in JSON', () => {
  it('drops binary-float residue and keeps real digits', () => {
    expect(cleanUsd(1 - 0.95)).toBe(0.05);
    expect(cleanUsd(0.022072499999999957)).toBe(0.0220725);
    expect(cleanUsd(0.1 + 0.2)).toBe(0.3);
    // a tiny real cost keeps its digits: a $0.0001 budget's figures stay exact
    expect(cleanUsd(0.000123456789)).toBe(0.000123456789);
    expect(cleanUsd(0)).toBe(0);
    expect(cleanUsd(Infinity)).toBe(Infinity);
  });

  it('the replacer cleans only keys ending in _usd', () => {
    const text = JSON.stringify({ spend_usd: 0.1 + 0.2, nested: [{ remaining_usd: 1 - 0.95 }], ratio: 0.1 + 0.2, name_usd: 'x' }, usdReplacer);
    expect(text).toBe('{"spend_usd":0.3,"nested":[{"remaining_usd":0.05}],"ratio":0.30000000000000004,"name_usd":"x"}');
  });
});
