// One config problem, and the single line format every surface prints it in
// (`ptui config check`, the gateway's /health, the dashboard): `file: key.path: message`.

export interface ConfigProblem {
  /** config file name (`providers.yaml`), or a path when the problem is the directory itself */
  file: string;
  /** key path such as `models.gpt-4.targets[1].provider`; empty when the whole file is at fault */
  path: string;
  message: string;
  severity: 'error' | 'warning';
  /** 1-based position, set for YAML syntax errors: printed as `file:line:col:` like a compiler */
  line?: number;
  col?: number;
}

// A problem may quote what the file holds (a key, a value): control characters, invisible
// format ones (zero-width, bidi) and line separators are printed escaped, so a terminal shows
// exactly where they are and none of them acts on it.
const UNPRINTABLE = '[\\p{Cc}\\p{Cf}\\u2028\\u2029]';
const UNPRINTABLE_ANY = new RegExp(UNPRINTABLE, 'u');
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE, 'gu');
/** Whether a text holds a character that acts on a terminal or hides (the same set printed escaped). */
export const hasUnprintable = (s: string) => UNPRINTABLE_ANY.test(s);
const printable = (s: string) => s.replace(UNPRINTABLE_ALL, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);

export function formatProblem(p: ConfigProblem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}:${p.col ?? 1}`;
  if (p.path) where += `: ${p.path}`;
  return printable(`${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`);
}

const PLAIN_KEY_RE = /^[A-Za-z0-9_-]+$/;

/** `models.gpt-4.targets[1].provider`; keys that would read ambiguously are quoted: `models["gpt-4.1"]`. */
export function formatKeyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else {
      const key = String(s);
      if (!PLAIN_KEY_RE.test(key)) out += `[${JSON.stringify(key)}]`;
      else out += out ? `.${key}` : key;
    }
  }
  return out;
}

export function hasErrors(problems: readonly ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
