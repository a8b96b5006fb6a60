// Finding secrets in one string. Cost is one native regex sweep for the detectors' literal
// anchors plus a sticky, bounded regex at each anchor hit: linear in the text, no backtracking
// across it. The detectors read the text with invisible characters removed and look-alikes
// folded (fold.ts); findings are positions in the original.
import { DETECTORS, startsToken, type Detector, type SecretKind } from './detectors.js';
import { foldForScan, foldText, unfoldSpan } from './fold.js';

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

/** Secrets in text as a reader (or a model) would read it: spans in the original text. */
export function findSecrets(text: string): Finding[] {
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
