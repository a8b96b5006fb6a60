// Guardrails scan every string the upstream would receive, at any depth and under any key,
// after removing invisible characters and folding look-alikes; what is forwarded is unchanged
// unless redacted.
import { describe, expect, it } from 'vitest';
import { SECRET_KINDS } from '../../src/security/detectors.js';
import { foldForScan } from '../../src/security/fold.js';
import { redactRequest, responseHoldsSecret, scanRequest } from '../../src/security/request.js';
import { walkStrings } from '../../src/security/strings.js';
import { POSITIVE } from '../helpers/secret-samples.js';
import { DISGUISES, FIELD_CASES } from './fields.js';

const SAMPLES = SECRET_KINDS.flatMap((kind) => POSITIVE[kind].map((value) => ({ kind, value })));

describe('every kind through every field', () => {
  it(`${SAMPLES.length} samples x ${FIELD_CASES.length} fields: found (kind named), redacted away, nothing else changed`, () => {
    const misses: string[] = [];
    for (const f of FIELD_CASES) {
      for (const s of SAMPLES) {
        const body = f.body(s.value);
        const scan = scanRequest(body);
        if (!scan || !scan.kinds.includes(s.kind)) {
          misses.push(`${f.endpoint} ${f.name}: ${s.kind}`);
          continue;
        }
        redactRequest(scan);
        const json = JSON.stringify(body);
        if (json.includes(s.value) || json.includes(JSON.stringify(s.value).slice(1, -1))) misses.push(`${f.endpoint} ${f.name}: ${s.kind} left after redaction`);
        // the same body with a placeholder in the secret's place is what redaction produced
        const expected = JSON.stringify(f.body(`[REDACTED:${s.kind}]`));
        if (s.kind !== 'private_key' && f.name !== 'tool_calls arguments' && json !== expected) misses.push(`${f.endpoint} ${f.name}: ${s.kind} redaction changed more than the secret`);
      }
    }
    expect(misses).toEqual([]);
  });

  it.each(DISGUISES)('disguised (%s): found in every field', (_name, disguise) => {
    const misses: string[] = [];
    for (const f of FIELD_CASES) {
      if (f.name === 'tool_calls arguments') continue; // JSON-escaped \u200B in a string: a different test below
      for (const s of SAMPLES) {
        if (s.kind === 'private_key') continue; // PEM lines start with dashes: fullwidth dashes fold too, covered below
        const scan = scanRequest(f.body(disguise(s.value)));
        if (!scan?.kinds.includes(s.kind)) misses.push(`${f.name}: ${s.kind}`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('Cyrillic and Greek look-alikes, non-ASCII dashes, a PEM header in fullwidth dashes', () => {
    const gh = POSITIVE.github[0]!;
    const openai = POSITIVE.openai[0]!;
    const pem = POSITIVE.private_key[0]!;
    const cases = [
      ['ѕ' + openai.slice(1), 'openai'], // Cyrillic dze
      ['s\u043A' + openai.slice(2), 'openai'], // Cyrillic ka
      ['sk\u2011' + openai.slice(3), 'openai'], // non-breaking hyphen
      ['gһp_' + gh.slice(4), 'github'], // Cyrillic shha
      ['\u0410KIA' + POSITIVE.aws_access_key[0]!.slice(4), 'aws_access_key'], // Cyrillic A
      [pem.replace(/-/g, '\uFF0D'), 'private_key'],
    ] as const;
    for (const [text, kind] of cases) expect(scanRequest({ messages: [{ role: 'user', content: `x ${text} y` }] })?.kinds, text.slice(0, 12)).toEqual([kind]);
  });

  it('redaction of a disguised secret removes all of it, invisible characters included; text around is kept', () => {
    const secret = POSITIVE.github[0]!;
    const body = { messages: [{ role: 'user', content: `before ${secret.slice(0, 2)}\u200B${secret.slice(2)} after` }] };
    redactRequest(scanRequest(body)!);
    expect(body.messages[0]!.content).toBe('before [REDACTED:github] after');
  });

  it('a secret in an object key is redacted in the key; the value and other keys stay', () => {
    const secret = POSITIVE.stripe[0]!;
    const body: Record<string, unknown> = { model: 'M', messages: [], metadata: { a: 1, [secret]: 'v', z: 2 } };
    redactRequest(scanRequest(body)!);
    expect(body.metadata).toEqual({ a: 1, '[REDACTED:stripe]': 'v', z: 2 });
  });

  it('an ordinary body is left exactly as it was, non-ASCII text included', () => {
    const body = {
      model: 'M',
      messages: [{ role: 'user', content: 'Привет, мир — ｆｕｌｌｗｉｄｔｈ, 日本語, emoji 🎉, task-skip, sk-learn' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { 'clé': { default: 'ß' } } } } }],
    };
    const before = JSON.stringify(body);
    expect(scanRequest(body)).toBeNull();
    expect(JSON.stringify(body)).toBe(before);
  });

  it('nesting far deeper than any stack: no recursion, every string visited', () => {
    let deep: unknown = POSITIVE.slack[0];
    for (let i = 0; i < 200_000; i++) deep = i % 2 ? [deep] : { k: deep };
    const body = { model: 'M', messages: [{ role: 'user', content: deep }] };
    expect(scanRequest(body)?.kinds).toEqual(['slack']);
    let n = 0;
    expect(walkStrings(body, () => n++)).toBe(true);
    expect(n).toBeGreaterThan(100_000);
  });

  it('a walk stops at its node cap and says so', () => {
    const body = { a: Array.from({ length: 100 }, (_, i) => `s${i}`) };
    let n = 0;
    expect(walkStrings(body, () => n++, 50)).toBe(false);
    expect(n).toBeLessThanOrEqual(51);
  });

  it('fold: ASCII is returned as it is (no copy, no map); positions map back through removed characters', () => {
    const ascii = 'plain text';
    expect(foldForScan(ascii)).toEqual({ text: ascii, map: null });
    const f = foldForScan('a\u200Bｂc');
    expect(f.text).toBe('abc');
    expect(f.map).toEqual([0, 2, 3, 4]);
  });

  it('responses: a secret in a JSON answer (escaped or not) or a plain text is found; an ordinary answer is not', () => {
    const gh = POSITIVE.github[0]!;
    expect(responseHoldsSecret(JSON.stringify({ choices: [{ message: { content: `here: ${gh}` } }] }))).toBe(true);
    expect(responseHoldsSecret(`{"choices":[{"message":{"content":"${gh.slice(0, 3)}\\u200b${gh.slice(3)}"}}]}`)).toBe(true);
    expect(responseHoldsSecret(`not json ${gh}`)).toBe(true);
    expect(responseHoldsSecret(JSON.stringify({ choices: [{ message: { content: 'nothing to see' } }] }))).toBe(false);
  });
});
