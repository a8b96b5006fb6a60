// What a secret detector should read instead of the raw text: invisible characters removed
// (zero-width spaces, joiners, bidi controls, soft hyphens, variation selectors, tags) and
// look-alikes folded (NFKC for fullwidth and mathematical letters, a confusables table for the
// Cyrillic and Greek letters and the dashes that can spell a key prefix). `sk‑proj‑…` with a
// non-breaking hyphen, `ѕk-…` with a Cyrillic s, `s\u200Bk-…` all read as `sk-…`.
//
// Linear: ASCII text (most prompts) is returned as it is after one native test; other text is
// folded by native whole-string passes (foldText). Only a string that holds a finding is folded
// again one code point at a time (foldForScan), keeping positions, so redaction replaces exactly
// the characters that spelled the secret.

// Default_Ignorable_Code_Point covers the zero-width and joiner family, variation selectors,
// tag characters and Hangul fillers; Cf adds the bidi controls and soft hyphen's siblings.
const INVISIBLE_RE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;

// Letters and marks that look like the ASCII in key prefixes (sk- ghp_ AKIA AIza xoxb- hf_
// rk_live_ -----BEGIN …) but that NFKC leaves alone.
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'B', е: 'e', к: 'k', м: 'M', н: 'H', о: 'o', р: 'p', с: 'c', т: 'T', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ɡ: 'g',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X', Ѕ: 'S', І: 'I', Ј: 'J', Ү: 'Y',
  // Greek
  α: 'a', ο: 'o', ρ: 'p', κ: 'k', ι: 'i', ν: 'v', υ: 'u', χ: 'x', ε: 'e',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  // dashes and low lines
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-', '\uFE58': '-',
  '\uFE63': '-', '\uFF0D': '-', '\u02D7': '-', '\u2043': '-', '\u2017': '_', '\uFF3F': '_',
};

/**
 * Every code unit below 0x80. Short strings (keys, roles) by a loop, which costs less than any
 * native call; longer ones by their UTF-8 length, which equals the length only for ASCII and is
 * counted natively several times faster than a regex finds a non-ASCII character.
 */
export function isAscii(text: string): boolean {
  if (text.length < 32) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
    return true;
  }
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/** Per BMP code unit: 0 unchanged, DROP removed, else the ASCII it folds to. Built on first use. */
const DROP = 0xffff;
let table: Uint16Array | null = null;
function foldTable(): Uint16Array {
  if (table) return table;
  const t = new Uint16Array(0x10000);
  for (let c = 0x80; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue; // surrogate halves: handled as pairs
    const ch = String.fromCharCode(c);
    if (INVISIBLE_RE.test(ch)) t[c] = DROP;
    else if (CONFUSABLES[ch] !== undefined) t[c] = CONFUSABLES[ch].charCodeAt(0);
  }
  return (table = t);
}

/** A string from code units, in chunks (an argument list has a limit; no endianness assumed). */
function fromUnits(buf: Uint16Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(n, i + 8192)) as unknown as number[]);
  return s;
}

/**
 * The folded text alone, for detection: native NFKC over the whole string, then one pass over
 * its code units through a lookup table (invisibles dropped, confusables to ASCII). Positions
 * are not kept; foldForScan recomputes them for the rare string that holds a finding.
 */
export function foldText(text: string): string {
  if (isAscii(text)) return text;
  const t = text.normalize('NFKC');
  const tab = foldTable();
  const buf = new Uint16Array(t.length);
  let o = 0;
  let changed = t !== text;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x80) {
      buf[o++] = c;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) {
      // a supplementary code point: invisible ones (tags, variation selectors) are dropped
      if (INVISIBLE_RE.test(t.slice(i, i + 2))) changed = true;
      else {
        buf[o++] = c;
        buf[o++] = t.charCodeAt(i + 1);
      }
      i++;
    } else {
      const m = tab[c]!;
      if (m === 0) buf[o++] = c;
      else {
        changed = true;
        if (m !== DROP) buf[o++] = m;
      }
    }
  }
  return changed ? fromUnits(buf, o) : text;
}

const cache = new Map<number, string>();
const CACHE_MAX = 65_536;

function foldCodePoint(cp: number, ch: string): string {
  let out = cache.get(cp);
  if (out !== undefined) return out;
  if (INVISIBLE_RE.test(ch)) out = '';
  else {
    out = CONFUSABLES[ch] ?? ch.normalize('NFKC');
    // NFKC can produce a confusable or an invisible (rarely): fold the result once more.
    if (out !== ch) {
      let again = '';
      for (const c of out) again += INVISIBLE_RE.test(c) ? '' : (CONFUSABLES[c] ?? c);
      out = again;
    }
  }
  if (cache.size < CACHE_MAX) cache.set(cp, out);
  return out;
}

export interface Folded {
  text: string;
  /** for each UTF-16 unit of `text` (and one past its end), the index in the original it came from; null: identical */
  map: number[] | null;
}

export function foldForScan(text: string): Folded {
  if (isAscii(text)) return { text, map: null };
  let out = '';
  const map: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const f = cp < 0x80 ? text[i]! : foldCodePoint(cp, text.slice(i, i + width));
    for (let k = 0; k < f.length; k++) map.push(i);
    out += f;
    i += width;
  }
  if (out === text) return { text, map: null };
  map.push(text.length);
  return { text: out, map };
}

/** [start, end) in the folded text back to the original: whole code points, invisibles inside included. */
export function unfoldSpan(f: Folded, start: number, end: number, originalLength: number): [number, number] {
  if (!f.map) return [start, end];
  const s = f.map[Math.min(start, f.map.length - 1)]!;
  const e = end >= f.map.length - 1 ? originalLength : f.map[end]!;
  return [s, Math.max(e, s)];
}
