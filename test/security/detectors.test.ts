import { describe, expect, it } from 'vitest';
import { SECRET_KINDS } from '../../src/security/detectors.js';
import { findSecrets, redactText } from '../../src/security/scan.js';
import { NEGATIVE, ORDINARY, POSITIVE } from '../helpers/secret-samples.js';

const kindsIn = (text: string) => [...new Set(findSecrets(text).map((f) => f.kind))];

describe('secret detectors', () => {
  it('has positive and negative samples for every kind', () => {
    for (const kind of SECRET_KINDS) {
      expect(POSITIVE[kind].length, kind).toBeGreaterThan(0);
      expect(NEGATIVE[kind].length, kind).toBeGreaterThan(0);
    }
  });

  for (const kind of SECRET_KINDS) {
    describe(kind, () => {
      it.each(POSITIVE[kind].map((s, i) => [i, s]))('finds sample %i alone, in prose, in quotes and after =', (_i, secret) => {
        expect(kindsIn(secret)).toEqual([kind]);
        expect(kindsIn(`here is my key ${secret} please keep it safe`)).toEqual([kind]);
        expect(kindsIn(`{"api_key": "${secret}"}`)).toEqual([kind]);
        expect(kindsIn(`export TOKEN=${secret}\n`)).toEqual([kind]);
      });

      it.each(POSITIVE[kind].map((s, i) => [i, s]))('redacts sample %i completely', (_i, secret) => {
        const text = `before ${secret} after`;
        const out = redactText(text, findSecrets(text));
        expect(out).toBe(`before [REDACTED:${kind}] after`);
      });

      it.each(NEGATIVE[kind].map((s) => [s]))('stays quiet on %j', (text) => {
        expect(findSecrets(text)).toEqual([]);
        expect(findSecrets(`some prose ${text} more prose`)).toEqual([]);
      });
    });
  }

  it.each(ORDINARY.map((s) => [s.slice(0, 40), s]))('no false alarm on ordinary text: %s', (_label, text) => {
    expect(findSecrets(text)).toEqual([]);
  });

  it('finds several secrets of different kinds in one text, in order of position', () => {
    const a = POSITIVE.github[0];
    const b = POSITIVE.aws_access_key[0];
    const c = POSITIVE.openai[0];
    const text = `x ${a} y ${b} z ${c}`;
    const found = findSecrets(text).sort((p, q) => p.start - q.start);
    expect(found.map((f) => f.kind)).toEqual(['github', 'aws_access_key', 'openai']);
    expect(redactText(text, found)).toBe('x [REDACTED:github] y [REDACTED:aws_access_key] z [REDACTED:openai]');
  });

  it('a PEM key body whose BEGIN line is elsewhere is still redacted up to its END line', () => {
    const body = 'MIIEowIBAAKCAQEAx7Q2\nqZr8s1ZbYpL0aa9Kx\n';
    const text = `the rest: ${body}-----END RSA PRIVATE KEY----- done`;
    const out = redactText(text, findSecrets(text));
    expect(out).toBe('the rest: [REDACTED:private_key] done');
  });

  it('pathological inputs stay linear (many anchors, no match)', () => {
    const text = 'sk-'.repeat(200_000) + 'AKIA'.repeat(100_000) + '-----BEGIN '.repeat(50_000) + 'xoxb-1'.repeat(50_000);
    // Finishing at all is the assertion: a backtracking pattern would not return here.
    expect(findSecrets(text)).toEqual([]);
  });
});
