// Key material: shape, uniformity over base62, and the stored hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKey, hashKey, KEY_RE } from '../../src/keys/key.js';

describe('virtual keys', () => {
  it('are ptk_ + 40 base62 characters, all different', () => {
    const keys = new Set(Array.from({ length: 500 }, generateKey));
    expect(keys.size).toBe(500);
    for (const k of keys) expect(k).toMatch(KEY_RE);
  });

  it('use every base62 character about equally (no modulo bias toward the first ones)', () => {
    const counts = new Map<string, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) for (const c of generateKey().slice(4)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (n * 40) / 62;
    // chi-square with 61 degrees of freedom: 120 is far past p = 0.0001, a `% 62` bias (the first
    // 8 characters 5/4 as likely) would give several hundred
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    expect(chi).toBeLessThan(120);
  });

  it('are stored as their SHA-256 in hex', () => {
    const k = generateKey();
    expect(hashKey(k)).toBe(createHash('sha256').update(k).digest('hex'));
  });
});
