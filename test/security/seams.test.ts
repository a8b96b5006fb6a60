// The seam scan between two prompt text slots skips the window when both strings are plain
// ASCII without an anchor and no anchor straddles their junction. This checks that the skip
// never changes a result: for random slot texts built from key fragments, the findings equal
// those of scanning every seam window whole (the reference below, the scan without the skip).
import { isAscii } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactRequest, scanRequest } from '../../src/security/request.js';
import { findSecrets, redactText, type Finding } from '../../src/security/scan.js';
import { POSITIVE } from '../helpers/secret-samples.js';

const SEAM_WINDOW = 512;

/** Every string scanned alone, then every seam window scanned whole, keeping crossing matches. */
function reference(slots: string[]): { counts: Record<string, number>; redacted: string[] } {
  const findings: Finding[][] = slots.map((s) => findSecrets(s));
  const counts: Record<string, number> = {};
  for (const fs of findings) for (const f of fs) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  const live = slots.map((s, i) => ({ s, i })).filter((x) => x.s.length > 0);
  for (let k = 0; k + 1 < live.length; k++) {
    const a = live[k]!.s;
    const b = live[k + 1]!.s;
    const tail = a.length > SEAM_WINDOW ? a.slice(-SEAM_WINDOW) : a;
    const head = b.length > SEAM_WINDOW ? b.slice(0, SEAM_WINDOW) : b;
    const seam = tail.length;
    for (const f of findSecrets(tail + head)) {
      if (f.start >= seam || f.end <= seam) continue;
      findings[live[k]!.i]!.push({ kind: f.kind, start: a.length - seam + f.start, end: a.length });
      findings[live[k + 1]!.i]!.push({ kind: f.kind, start: 0, end: f.end - seam });
      counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    }
  }
  return { counts, redacted: slots.map((s, i) => redactText(s, findings[i]!)) };
}

const KEYS = [POSITIVE.github[0]!, POSITIVE.aws_access_key[0]!, POSITIVE.openai[0]!, POSITIVE.slack[0]!, POSITIVE.private_key[0]!];
// Fragments that make anchors and keys likely to meet at a junction.
const PIECE = fc.oneof(
  fc.constantFrom('sk', 'sk-', '-', 'k-', 'gh', 'p_', 'ghp_', 'AK', 'IA', 'AKIA', 'xo', 'xb-', 'hf_', '-----', 'BEGIN ', 'END ', 'PRIVATE KEY-----', ' ', '\n', '.', 'ab', 'Z9', '\u200b', 'ѕ', 'ｓ', '\u2011'),
  fc.constantFrom(...KEYS).chain((k) => fc.integer({ min: 0, max: k.length }).map((cut) => [k.slice(0, cut), k.slice(cut)][cut % 2]!)),
  fc.constantFrom(...KEYS),
  fc.string({ maxLength: 6 }),
);
const SLOT = fc.array(PIECE, { maxLength: 8 }).map((ps) => ps.join(''));

describe('guardrails: the seam skip changes no result', () => {
  it('random slots: the same kinds, counts and redactions as scanning every seam window', () => {
    fc.assert(
      fc.property(fc.array(SLOT, { minLength: 2, maxLength: 5 }), (slots) => {
        const want = reference(slots);
        const body = { prompt: [...slots] };
        const scan = scanRequest(body);
        const counts: Record<string, number> = {};
        for (const [k, n] of scan?.counts ?? []) counts[k] = n;
        expect(counts).toEqual(want.counts);
        if (scan) redactRequest(scan);
        expect(body.prompt).toEqual(want.redacted);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('a body whose JSON text is plain skips the walk: the same result as walking it, escapes included', () => {
    const value = fc.oneof(SLOT, fc.array(SLOT, { maxLength: 3 }));
    const body = fc.dictionary(SLOT, fc.oneof(value, fc.dictionary(SLOT, value, { maxKeys: 3 })), { maxKeys: 4 });
    fc.assert(
      fc.property(body, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (b, escapes) => {
        // letters written as \u escapes here and there: what a client with ensure_ascii sends
        let i = 0;
        const text = JSON.stringify(b).replace(/[a-zA-Z]/g, (c) => (escapes[i++ % 8] ? `\\u00${c.charCodeAt(0).toString(16)}` : c));
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const walked = scanRequest(parsed);
        const fromText = scanRequest(parsed, { text, ascii: isAscii(Buffer.from(text)) });
        expect(fromText?.counts ?? null).toEqual(walked?.counts ?? null);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('a key cut at every point between two plain strings is still found at the seam', () => {
    for (const key of KEYS.slice(0, 4)) {
      for (let cut = 1; cut < key.length; cut++) {
        const scan = scanRequest({ prompt: [`the key is ${key.slice(0, cut)}`, `${key.slice(cut)} and more`] });
        expect(scan?.counts.size, `${key.slice(0, 4)} cut ${cut}`).toBe(1);
      }
    }
  });
});
