// When the YAML parser rejects a file, its errors describe the parser's confusion, several lines
// of it, often pointing at the line before the mistake. People mostly get YAML wrong in one way:
// indentation (a tab, a key one space too deep, a key that lines up with nothing). This scan walks
// the block structure the way a reader does and names the first such line and how to fix it.
// It is only consulted after the parser failed, so it may be simple: block scalars and flow
// collections are skipped, and a deeper line that does not look like a key is taken as the
// continuation of a plain scalar.

export interface IndentFinding {
  line: number;
  col: number;
  message: string;
}

/** Text of a line without its comment (a `#` at the start or after a space, outside quotes). */
function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ' || s[i - 1] === '\t')) return s.slice(0, i);
  }
  return s;
}

/** Open `[`/`{` minus closing ones, outside quotes. */
function flowDepth(s: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth;
}

const KEY_RE = /^(?:"[^"]*"|'[^']*'|[^\s'"#][^#]*?)\s*:(?:\s|$)/;
const BLOCK_SCALAR_RE = /(?:^|[\s:])[|>][-+0-9]*$/;
const OPENS_RE = /:\s*(?:&\S+\s*)?(?:!\S+\s*)?$/;

const quoteLine = (s: string) => {
  const t = s.trim();
  return `"${t.length > 40 ? `${t.slice(0, 40)}…` : t}"`;
};
const spaces = (n: number) => `${n} space${n === 1 ? '' : 's'}`;

export function findIndentMistake(text: string): IndentFinding | undefined {
  const lines = text.split(/\r?\n/);
  const levels: number[] = [0];
  let opener: { line: number; col: number } | undefined;
  let prev: { line: number; indent: number; text: string } | undefined;
  let skipDeeperThan: number | undefined;
  let flow = 0;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1;
    const lead = /^[ \t]*/.exec(raw)![0];
    const body = stripComment(raw.slice(lead.length)).trimEnd();
    if (flow > 0) {
      flow += flowDepth(body);
      continue;
    }
    if (body === '' || body === '---' || body === '...' || body.startsWith('%')) continue;
    const tab = lead.indexOf('\t');
    const indent = tab < 0 ? lead.length : tab;
    if (skipDeeperThan !== undefined && indent > skipDeeperThan) continue;
    skipDeeperThan = undefined;
    if (tab >= 0) {
      return {
        line: lineNo,
        col: tab + 1,
        message: `line ${lineNo} is indented with a tab; YAML indents with spaces only: replace the tab with spaces`,
      };
    }
    const isDash = body === '-' || body.startsWith('- ');
    let nested = false;
    if (opener && (indent > opener.col || (indent === opener.col && isDash))) {
      if (indent > levels[levels.length - 1]) levels.push(indent);
      nested = true;
    }
    if (!nested) {
      const top = levels[levels.length - 1];
      if (indent > top) {
        if (!isDash && !KEY_RE.test(body)) continue; // the continuation of a multi-line plain value
        const above = prev ? `line ${prev.line} (${quoteLine(prev.text)}) above it is at ${prev.indent} and opens no block` : 'nothing above it opens a block';
        return {
          line: lineNo,
          col: indent + 1,
          message: `line ${lineNo} (${quoteLine(body)}) is indented ${spaces(indent)}, but ${above}: indent it by ${spaces(top)}`,
        };
      }
      while (levels.length > 1 && levels[levels.length - 1] > indent) levels.pop();
      if (levels[levels.length - 1] !== indent) {
        const nearest = [...levels].sort((a, b) => Math.abs(a - indent) - Math.abs(b - indent))[0];
        return {
          line: lineNo,
          col: indent + 1,
          message: `line ${lineNo} (${quoteLine(body)}) is indented ${spaces(indent)}, which lines up with no block above (${levels.join(', ')}): indent it by ${spaces(nearest)}`,
        };
      }
    }
    // `- - key: v`: each dash opens a level at the column of what follows it.
    let col = indent;
    let rest = body;
    while (rest === '-' || rest.startsWith('- ')) {
      const after = rest.slice(1);
      const gap = after.length - after.trimStart().length;
      col += 1 + gap;
      rest = after.trimStart();
      if (rest !== '' && col > levels[levels.length - 1]) levels.push(col);
    }
    opener = undefined;
    if (rest === '' && body.startsWith('-')) opener = { line: lineNo, col: indent };
    else if (BLOCK_SCALAR_RE.test(rest)) skipDeeperThan = col;
    else if (OPENS_RE.test(rest) && KEY_RE.test(rest)) opener = { line: lineNo, col };
    flow = flowDepth(rest);
    prev = { line: lineNo, indent, text: body };
  }
  return undefined;
}
