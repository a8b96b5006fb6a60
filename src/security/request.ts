// Secrets anywhere in a request body: every string the upstream would receive, values and
// object keys, at any depth and under any key (messages of any content shape, tools and their
// schemas, names, `user`, `stop`, `metadata`, fields ptui has never heard of). Each string is
// read with invisible characters removed and look-alikes folded (see fold.ts).
//
// A secret split across two consecutive prompt text slots (two content parts, or the end of
// one message and the start of the next) is caught by scanning a window around each seam: the
// tail of one slot joined to the head of the next, keeping only matches that cross the seam.
import type { SecretKind } from './detectors.js';
import { findSecrets, holdsAnchor, markedAt, MAX_ANCHOR_LENGTH, mayHoldSecret, redactText, type Finding } from './scan.js';
import { walkStrings, type StringOwner } from './strings.js';
import { collectTextSlots, type TextSlot } from './text-slots.js';

export { collectTextSlots } from './text-slots.js';

/** A string holding a finding: `owner[key]`, or the key itself. */
interface Site {
  owner: StringOwner;
  key: string | number;
  isKey: boolean;
  text: string;
  findings: Finding[];
}

export interface RequestScan {
  /** distinct kinds found, in order of discovery */
  kinds: SecretKind[];
  /** findings per kind (a secret split across a seam counts once) */
  counts: Map<SecretKind, number>;
  sites: Site[];
  /** the body was too big to walk completely: treated as holding a secret */
  incomplete: boolean;
}

// Longer than any single-token secret format (project keys run to ~200 characters); PEM keys
// are caught by their BEGIN/END lines, each far shorter than this.
const SEAM_WINDOW = 512;
// Where an anchor can straddle a seam: the last and first (longest anchor - 1) characters.
const JUNCTION = MAX_ANCHOR_LENGTH - 1;

type Obj = Record<string, unknown>;

/** Whether an anchor may straddle the join of two plain strings: only then is the window worth a scan. */
function anchorAtJunction(a: string, b: string): boolean {
  if (!markedAt(a, Math.max(0, a.length - JUNCTION), a.length) && !markedAt(b, 0, Math.min(b.length, JUNCTION))) return false;
  return holdsAnchor(a.slice(-JUNCTION) + b.slice(0, JUNCTION));
}

function anyAnchorAtJunction(slots: readonly TextSlot[]): boolean {
  for (let i = 0; i + 1 < slots.length; i++) if (anchorAtJunction(slots[i]!.text, slots[i + 1]!.text)) return true;
  return false;
}

class Scan {
  readonly result: RequestScan = { kinds: [], counts: new Map(), sites: [], incomplete: false };
  /** value sites by owner and key, so a seam finding joins the site of its string */
  private readonly byOwner = new Map<StringOwner, Map<string | number, Site>>();
  /**
   * Value strings the walk found not plain (not ASCII, or holding an anchor; see mayHoldSecret),
   * by owner and key. Usually empty: then every seam is between two plain strings.
   */
  private notPlain: Map<StringOwner, Set<string | number>> | null = null;
  /** false when the walk stopped early: no string is known to be plain */
  walked = false;

  markNotPlain(owner: StringOwner, key: string | number): void {
    const m = (this.notPlain ??= new Map());
    let keys = m.get(owner);
    if (!keys) m.set(owner, (keys = new Set()));
    keys.add(key);
  }

  /** The walk saw this slot's string and found it plain ASCII without an anchor. */
  private plain(slot: TextSlot): boolean {
    return this.walked && !(this.notPlain?.get(slot.owner)?.has(slot.key) ?? false);
  }

  found(kind: SecretKind): void {
    const r = this.result;
    if (!r.counts.has(kind)) r.kinds.push(kind);
    r.counts.set(kind, (r.counts.get(kind) ?? 0) + 1);
  }

  site(owner: StringOwner, key: string | number, isKey: boolean, text: string): Site {
    if (!isKey) {
      const known = this.byOwner.get(owner)?.get(key);
      if (known) return known;
    }
    const s: Site = { owner, key, isKey, text, findings: [] };
    this.result.sites.push(s);
    if (!isKey) {
      let m = this.byOwner.get(owner);
      if (!m) this.byOwner.set(owner, (m = new Map()));
      m.set(key, s);
    }
    return s;
  }

  seam(a: TextSlot, b: TextSlot): void {
    // Two plain strings: a secret crossing their seam needs an anchor hit in the window, and
    // neither string holds a whole anchor, so it would straddle the seam. Without one there,
    // the window scan below would find nothing: looking at the junction is enough.
    if (this.plain(a) && this.plain(b) && !anchorAtJunction(a.text, b.text)) return;
    const tail = a.text.length > SEAM_WINDOW ? a.text.slice(-SEAM_WINDOW) : a.text;
    const head = b.text.length > SEAM_WINDOW ? b.text.slice(0, SEAM_WINDOW) : b.text;
    const seam = tail.length;
    for (const f of findSecrets(tail + head)) {
      if (f.start >= seam || f.end <= seam) continue; // wholly in one slot: already found there
      // Even when `a` ends with a whole key, `b`'s first word is taken too: it may be the rest.
      this.site(a.owner, a.key, false, a.text).findings.push({ kind: f.kind, start: a.text.length - seam + f.start, end: a.text.length });
      this.site(b.owner, b.key, false, b.text).findings.push({ kind: f.kind, start: 0, end: f.end - seam });
      this.found(f.kind);
    }
  }
}

/** The JSON text a body was parsed from, and whether its bytes were all ASCII (checked on the bytes: buffer.isAscii). */
export interface BodySource {
  text: string;
  ascii: boolean;
}

/**
 * Whether the JSON text of a body shows every string in it (keys and values) plain: ASCII, no
 * anchor and no \u escape. The other escapes (\n, \", \\, ...) decode to characters that no
 * anchor holds, so an anchor in any decoded string would stand in the text as it is.
 */
function plainJson(src: BodySource): boolean {
  return src.ascii && src.text.indexOf('\\u') === -1 && !holdsAnchor(src.text);
}

/**
 * Scans every string of a request body; null when it holds no secret. `source`, the JSON text
 * the body was parsed from (the body unchanged since), lets a body whose text is plain skip the
 * walk over its strings: one sweep over the text shows that none of them holds a secret.
 */
export function scanRequest(body: Obj, source?: BodySource | null): RequestScan | null {
  const plain = !!source && plainJson(source);
  const slots = collectTextSlots(body);
  // The usual request: plain text, and no seam where an anchor could straddle two strings.
  if (plain && !anyAnchorAtJunction(slots)) return null;
  const scan = new Scan();
  let complete = true;
  if (!plain) {
    complete = walkStrings(body, (text, owner, key, isKey) => {
      if (!mayHoldSecret(text)) return;
      if (!isKey) scan.markNotPlain(owner, key);
      const fs = findSecrets(text);
      if (fs.length === 0) return;
      scan.site(owner, key, isKey, text).findings.push(...fs);
      for (const f of fs) scan.found(f.kind);
    });
  }
  scan.walked = complete;
  for (let i = 0; i + 1 < slots.length; i++) scan.seam(slots[i]!, slots[i + 1]!);
  scan.result.incomplete = !complete;
  return scan.result.sites.length > 0 || !complete ? scan.result : null;
}

/** Rewrites, in place, every string that holds a finding with `[REDACTED:<kind>]` (keys too). */
export function redactRequest(scan: RequestScan): void {
  const renamed = new Map<Obj, Map<string, string>>();
  for (const s of scan.sites) {
    const redacted = redactText(s.text, s.findings);
    if (!s.isKey) (s.owner as Record<string | number, unknown>)[s.key] = redacted;
    else {
      let m = renamed.get(s.owner as Obj);
      if (!m) renamed.set(s.owner as Obj, (m = new Map()));
      m.set(s.key as string, redacted);
    }
  }
  // Keys are renamed once per object, keeping their order.
  for (const [obj, names] of renamed) {
    const entries = Object.entries(obj);
    for (const k of Object.keys(obj)) delete obj[k];
    for (const [k, v] of entries) obj[names.get(k) ?? k] = v;
  }
}

/**
 * Whether an answer (a JSON body as text, or anything else) holds a secret: parsed and walked
 * when it is JSON, so escapes (`\u0073k-…`) are read as the client will read them.
 */
export function responseHoldsSecret(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return findSecrets(text).length > 0;
  }
  if (typeof parsed === 'string') return findSecrets(parsed).length > 0;
  if (parsed === null || typeof parsed !== 'object') return false;
  let hit = false;
  const complete = walkStrings(parsed, (t) => {
    if (!hit && findSecrets(t).length > 0) hit = true;
  });
  return hit || !complete;
}
