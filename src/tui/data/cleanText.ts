// The console's one sanitiser. Everything that reaches its state from outside — journal
// lines, the gateway's log, GPU process and unit names, usage rows, config errors, anything
// read over HTTP — passes through here before a panel can draw it, so no foreign escape
// sequence ever reaches the terminal: C0 and C1 controls, DEL, every escape sequence (CSI, OSC
// such as ESC]0 titles and ESC]52 clipboard writes, DCS, SOS, PM, APC), bidi overrides and the
// other format characters are removed, each removed run shown as one `�`. Tabs and line breaks
// become spaces (the panels draw single lines).
export const REMOVED_MARK = '\ufffd';

/** Anything that may need work; the common, clean string costs one test. */
const SUSPECT = /[\x00-\x1f\x7f-\x9f\u2028\u2029\p{Cf}\ud800-\udfff]/u;
/** Format characters that stay: the zero-width joiner of emoji sequences does no harm. */
const KEPT_FORMAT = new Set([0x200d]);
const FORMAT = /^\p{Cf}$/u;

const BEL = 0x07;
const ESC = 0x1b;
const ST = 0x9c;

/** Where a control string (OSC, DCS, SOS, PM, APC) ends: BEL, ESC \ or ST; else the end. */
function endOfControlString(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === BEL || c === ST) return i + 1;
    if (c === ESC) return s[i + 1] === '\\' ? i + 2 : i; // another ESC ends it too
  }
  return s.length;
}

/** Parameter and intermediate bytes, then the final byte. */
function endOfCsi(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x40 && c <= 0x7e) return i + 1;
    if (c < 0x20 || c > 0x3f) return i;
  }
  return s.length;
}

/** The end of the escape sequence that starts at s[i] (ESC or a C1 introducer). */
function endOfSequence(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x9b) return endOfCsi(s, i + 1);
  if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) return endOfControlString(s, i + 1);
  if (c !== ESC) return i + 1;
  const next = s[i + 1];
  if (next === undefined) return i + 1;
  if (next === '[') return endOfCsi(s, i + 2);
  if (next === ']' || next === 'P' || next === 'X' || next === '^' || next === '_') return endOfControlString(s, i + 2);
  // ESC, intermediates (0x20–0x2f), one final byte: ESC ( B, ESC c, ESC 7 …
  let j = i + 1;
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
  return j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x7e ? j + 1 : j;
}

export function cleanText(s: string): string {
  if (!SUSPECT.test(s)) return s;
  let out = '';
  let marked = false;
  const mark = () => {
    if (!marked) out += REMOVED_MARK;
    marked = true;
  };
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    if (cp === ESC || cp === 0x9b || cp === 0x9d || cp === 0x90 || cp === 0x98 || cp === 0x9e || cp === 0x9f) {
      mark();
      i = Math.max(i + 1, endOfSequence(s, i));
      continue;
    }
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029) {
      out += ' ';
      marked = false;
    } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff) || (FORMAT.test(String.fromCodePoint(cp)) && !KEPT_FORMAT.has(cp))) {
      mark();
    } else {
      out += String.fromCodePoint(cp);
      marked = false;
    }
    i += size;
  }
  return out;
}

/**
 * Plain data (objects, arrays, strings, numbers) with every string cleaned; a part with nothing
 * to clean is returned as it was, so unchanged rows keep their identity (and React's memo).
 * With `seen`, for a source that never changes a part in place once it has published it (the
 * usage feed's rows), a part cleaned before is not walked again: its earlier answer is reused.
 */
export function cleanData<T>(value: T, seen?: WeakMap<object, unknown>): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const known = seen?.get(value);
  if (known !== undefined) return known as T;
  const cleaned = cleanParts(value, seen);
  seen?.set(value, cleaned);
  return cleaned;
}

function cleanParts<T extends object>(value: T, seen: WeakMap<object, unknown> | undefined): T {
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const c = cleanData(value[i], seen);
      if (c !== value[i]) (copy ??= value.slice())[i] = c;
    }
    return (copy ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Maps, class instances: not text from outside
  let copy: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const c = cleanData(v, seen);
    if (c !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = c;
  }
  return (copy ?? value) as T;
}
