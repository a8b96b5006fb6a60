import { describe, expect, it } from 'vitest';
import { bucketDelta, bucketsOf, quantile } from '../../src/engines/histogram.js';

const s = (le: string, value: number, extra: Record<string, string> = {}) => ({ labels: { le, ...extra }, value });

describe('histograms', () => {
  it('sums label sets and interpolates like histogram_quantile', () => {
    const b = bucketsOf([s('0.1', 10, { e: '0' }), s('1', 10, { e: '0' }), s('+Inf', 10, { e: '0' }), s('0.1', 0, { e: '1' }), s('1', 10, { e: '1' }), s('+Inf', 10, { e: '1' })])!;
    expect(b.counts).toEqual([10, 20, 20]);
    expect(quantile(0.5, b)).toBeCloseTo(0.1);
    expect(quantile(0.75, b)).toBeCloseTo(0.1 + 0.9 * 0.5);
  });

  it('says nothing for an empty window or past the last finite bound', () => {
    expect(quantile(0.5, { le: [1, Infinity], counts: [0, 0] })).toBeNull();
    expect(quantile(0.95, { le: [1, Infinity], counts: [0, 10] })).toBe(1);
  });

  it('makes no delta when counts went down or the layout changed', () => {
    const a = { le: [1, Infinity], counts: [5, 6] };
    expect(bucketDelta({ le: [1, Infinity], counts: [7, 9] }, a)).toEqual({ le: [1, Infinity], counts: [2, 3] });
    expect(bucketDelta({ le: [1, Infinity], counts: [1, 1] }, a)).toBeUndefined();
    expect(bucketDelta({ le: [2, Infinity], counts: [7, 9] }, a)).toBeUndefined();
  });

  it('needs a +Inf bucket', () => {
    expect(bucketsOf([s('1', 3)])).toBeUndefined();
  });
});
