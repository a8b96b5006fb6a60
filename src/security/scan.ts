// Finding secrets in one string. Cost is one native regex sweep for the detectors' literal
// anchors plus a sticky, bounded regex at each anchor hit: linear in the text, no backtracking
// across it. The detectors read the text with invisible characters removed and look-alikes
// folded (fold.ts); findings are positions in the original.
import { DETECTORS, startsToken, type Detector, type SecretKind } from './detectors.js';
import { foldForScan, foldText, isAscii, unfoldSpan } from './fold.js';

export interface Finding {
  kind: SecretKind;
  /** [start, end) in the scanned string, the span redaction replaces */
  start: number;
  end: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

// Every anchor of every detector in one alternation (longest first, so `sk-ant-` wins over
// `sk-` at the same position): one native sweep over the text finds all candidate positions.
const ANCHOR_DETECTORS = new Map<string, Detector[]>();
for (const d of DETECTORS) {
  for (const a of d.anchors) ANCHOR_DETECTORS.set(a, [...(ANCHOR_DETECTORS.get(a) ?? []), d]);
}
const ANCHOR_RE = new RegExp(
  [...ANCHOR_DETECTORS.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRe)
    .join('|'),
  'g',
);

/** The longest anchor: one that straddles a join of two strings starts in the last (this - 1) characters of the first. */
export const MAX_ANCHOR_LENGTH = Math.max(...[...ANCHOR_DETECTORS.keys()].map((a) => a.length));

// Non-global, for test(): a global regex's exec() with lastIndex costs several times more per call,
// which the many short strings of a request (keys, roles, names) would pay.
const ANCHOR_TEST_RE = new RegExp(ANCHOR_RE.source);

// Every anchor holds one of these (checked below), so a string without any of them holds none.
const DASH = 45;
const LOW_LINE = 95;
const CAPITAL_A = 65;
for (const a of ANCHOR_DETECTORS.keys()) {
  if (!/[-_A]/.test(a)) throw new Error(`secret anchor ${a} holds none of - _ A: markedAt must look for another character`);
}
const SHORT = 32;

/** Whether text[from, to) holds a character that every anchor holds one of (- _ A). */
export function markedAt(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === DASH || c === LOW_LINE || c === CAPITAL_A) return true;
  }
  return false;
}

/** Whether an anchor (the start of some secret format) occurs in the text as it is, unfolded. */
export function holdsAnchor(text: string): boolean {
  return ANCHOR_TEST_RE.test(text);
}

/**
 * false: the text is plain ASCII without any anchor, so it holds no secret and folds to itself
 * (findSecrets would return nothing). Most strings of a request (keys, roles, ordinary prose)
 * are plain, and then this is their whole cost: for a short one a loop over its characters
 * (cheaper than any native call), for a longer one an ASCII check and one native sweep.
 */
export function mayHoldSecret(text: string): boolean {
  if (text.length >= SHORT) return !isAscii(text) || ANCHOR_TEST_RE.test(text);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return true;
  return markedAt(text, 0, text.length) && ANCHOR_TEST_RE.test(text);
}

/** Secrets in text as a reader (or a model) would read it: spans in the original text. */
export function findSecrets(text: string): Finding[] {
  if (!mayHoldSecret(text)) return [];
  const folded = foldText(text);
  const found = findLiteral(folded, []);
  if (folded === text || found.length === 0) return found;
  // Rare: a finding in folded text. Fold again keeping positions, to redact the right span.
  const f = foldForScan(text);
  const again = findLiteral(f.text, []);
  for (const x of again) [x.start, x.end] = unfoldSpan(f, x.start, x.end, text.length);
  // Whole-string NFKC composes across code points where the positional fold cannot: should the
  // two ever disagree, the whole string is the span.
  return again.length > 0 ? again : found.map((x) => ({ kind: x.kind, start: 0, end: text.length }));
}

function findLiteral(text: string, out: Finding[]): Finding[] {
  const anchorRe = ANCHOR_RE;
  anchorRe.lastIndex = 0;
  let a: RegExpExecArray | null;
  while ((a = anchorRe.exec(text)) !== null) {
    const i = a.index;
    for (const d of ANCHOR_DETECTORS.get(a[0])!) {
      if (!d.noBoundary && !startsToken(text, i)) continue;
      d.re.lastIndex = i;
      const m = d.re.exec(text);
      if (m === null || (d.accept !== undefined && !d.accept(m[0]))) continue;
      const end = d.extend ? d.extend(text, i + m[0].length) : i + m[0].length;
      out.push({ kind: d.kind, start: d.extendBack ? d.extendBack(text, i) : i, end });
      anchorRe.lastIndex = end;
      break;
    }
  }
  return out;
}

export function redactionMarker(kind: SecretKind): string {
  return `[REDACTED:${kind}]`;
}

/** Replaces each finding with its marker; overlapping findings collapse into one span. */
export function redactText(text: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (const f of sorted) {
    if (f.end <= pos) continue; // inside a span already replaced
    if (f.start < pos) {
      pos = f.end; // overlaps the previous span: widen it, one marker is enough
      continue;
    }
    out += text.slice(pos, f.start) + redactionMarker(f.kind);
    pos = f.end;
  }
  return out + text.slice(pos);
}
