// One detector per secret kind (README, "Budgets, guardrails and cache"). Each is found in two steps so that scanning stays
// linear and cheap on large prompts: a native indexOf for a literal anchor (`sk-`, `AKIA`, ...),
// then a sticky regex anchored at that position with bounded or possessive-free quantifiers.
// A match must also sit on a token boundary and, where the format allows ordinary words
// (`sk-learn`, `hf_hub_download`), look random enough; this keeps `task-skip`, UUIDs, hashes
// and base64 blobs quiet.

export type SecretKind =
  | 'openai'
  | 'anthropic'
  | 'github'
  | 'aws_access_key'
  | 'google_api_key'
  | 'slack'
  | 'huggingface'
  | 'stripe'
  | 'private_key';

export const SECRET_KINDS: readonly SecretKind[] = [
  'openai',
  'anthropic',
  'github',
  'aws_access_key',
  'google_api_key',
  'slack',
  'huggingface',
  'stripe',
  'private_key',
];

export interface Detector {
  kind: SecretKind;
  /** literals every match starts with; the regex runs only where one of them occurs */
  anchors: readonly string[];
  /** sticky regex tried at an anchor position */
  re: RegExp;
  /** extra check on the matched text (entropy-ish), for formats that ordinary words can mimic */
  accept?: (match: string) => boolean;
  /**
   * Where the redaction ends, for matches that only identify the start of a secret (a PEM
   * header): default is the end of the regex match.
   */
  extend?: (text: string, matchEnd: number) => number;
  /** Where the redaction starts, for matches that only identify the end of a secret (a PEM END line). */
  extendBack?: (text: string, matchStart: number) => number;
  /** the anchor is distinctive enough to match inside a word (PEM lines after a literal `\n`) */
  noBoundary?: boolean;
}

const isTokenChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45; // 0-9 A-Z a-z _ -

/** The character before an anchor must not continue a word, so `task-skip` never reads as `sk-skip`. */
export function startsToken(text: string, at: number): boolean {
  return at === 0 || !isTokenChar(text.charCodeAt(at - 1));
}

/** Mixed case and digits: true of generated keys, false of kebab-case words and most identifiers. */
function looksRandom(s: string, minDigits = 1): boolean {
  let upper = 0;
  let lower = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
    else if (c >= 48 && c <= 57) digits++;
  }
  return upper > 0 && lower > 0 && digits >= minDigits;
}

const PEM_END_RE = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/g;

/** A PEM key is redacted through its END line, or to the end of the text when the END is elsewhere. */
function extendPem(text: string, matchEnd: number): number {
  PEM_END_RE.lastIndex = matchEnd;
  const m = PEM_END_RE.exec(text);
  return m ? m.index + m[0].length : text.length;
}

// Keys are a few KB at most: walking back further could only make a pathological prompt quadratic.
const PEM_MAX_BODY = 16 * 1024;

/**
 * Back from an END line to where the key starts: its BEGIN line when that is in the same text,
 * else over the base64 body lines (also JSON-escaped, `\\n`), stopping at prose punctuation or spaces.
 */
function pemBodyStart(text: string, matchStart: number): number {
  const floor = Math.max(0, matchStart - PEM_MAX_BODY);
  const begin = text.lastIndexOf('-----BEGIN ', matchStart);
  if (begin >= floor) return begin;
  let i = matchStart;
  while (i > floor) {
    const c = text.charCodeAt(i - 1);
    const body =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ||
      c === 43 || c === 47 || c === 61 || c === 92 || c === 10 || c === 13;
    if (!body) break;
    i--;
  }
  return i;
}

export const DETECTORS: readonly Detector[] = [
  {
    kind: 'anthropic',
    anchors: ['sk-ant-'],
    re: /sk-ant-(?:api|admin|sid)?[0-9]{0,2}-?[A-Za-z0-9_-]{32,300}/y,
    accept: (m) => looksRandom(m.slice(7)),
  },
  {
    // sk-, sk-proj-, sk-svcacct-, sk-admin-; sk-ant- belongs to Anthropic.
    kind: 'openai',
    anchors: ['sk-'],
    re: /sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}/y,
    accept: (m) => looksRandom(m.slice(3), 2),
  },
  {
    kind: 'github',
    anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    re: /gh[pousr]_[A-Za-z0-9]{36,255}/y,
  },
  {
    kind: 'github',
    anchors: ['github_pat_'],
    re: /github_pat_[A-Za-z0-9_]{22,255}/y,
    accept: (m) => looksRandom(m.slice(11)),
  },
  {
    // Long-term (AKIA) and temporary (ASIA) access key ids: 20 characters, base32-ish.
    kind: 'aws_access_key',
    anchors: ['AKIA', 'ASIA'],
    re: /A[KS]IA[A-Z2-7]{16}(?![A-Za-z0-9])/y,
  },
  {
    kind: 'google_api_key',
    anchors: ['AIza'],
    re: /AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/y,
  },
  {
    kind: 'slack',
    anchors: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-'],
    re: /xox[abprs]-[0-9A-Za-z-]{10,250}/y,
    accept: (m) => /[0-9]{6}/.test(m),
  },
  {
    kind: 'huggingface',
    anchors: ['hf_'],
    re: /hf_[A-Za-z0-9]{30,60}(?![A-Za-z0-9_])/y,
    accept: (m) => looksRandom(m.slice(3), 0),
  },
  {
    kind: 'stripe',
    anchors: ['sk_live_', 'rk_live_'],
    re: /[sr]k_live_[0-9A-Za-z]{16,255}/y,
  },
  {
    kind: 'private_key',
    anchors: ['-----BEGIN '],
    re: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/y,
    extend: extendPem,
    noBoundary: true,
  },
  {
    // The tail of a key whose BEGIN line is in another part (or was cut off): the END line
    // with the body before it is still the key.
    kind: 'private_key',
    anchors: ['-----END '],
    re: /-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/y,
    extendBack: pemBodyStart,
    noBoundary: true,
  },
];
