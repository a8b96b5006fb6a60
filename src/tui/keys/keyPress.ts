// Terminal input as key presses. Whatever arrives in one read — `jj`, `3j`, two arrow
// sequences, a paste — is split into one key per character or escape sequence, so every
// keypress counts. Ink already cuts escape sequences apart; the runs of text between them are
// split here.

export interface KeyPress {
  /** a printable character itself ('j', 'G', '?'), or a named key: up, down, left, right,
   *  pageup, pagedown, home, end, tab, return, escape, backspace, delete, insert, f1…f4, unknown */
  name: string;
  ctrl: boolean;
  shift: boolean;
  meta: boolean;
}

const ESC = '\x1b';

/** One token per key: an escape sequence (CSI, SS3) or one code point. */
export function splitKeys(input: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < input.length) {
    const len = tokenLength(input, i);
    out.push(input.slice(i, i + len));
    i += len;
  }
  return out;
}

function tokenLength(s: string, i: number): number {
  if (s[i] !== ESC) return s.codePointAt(i)! > 0xffff ? 2 : 1;
  const next = s[i + 1];
  if (next === '[') return csiLength(s, i + 2) + 2;
  if (next === 'O' && s[i + 2] !== undefined) return 3;
  // Escape and then a key, typed quickly (Esc q): two keys. Alt combinations bind nothing here.
  return 1;
}

/** Parameter and intermediate bytes, then one final byte (0x40–0x7e); `[[A` is a legacy form. */
function csiLength(s: string, start: number): number {
  let j = start;
  if (s[j] === '[') j++;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c >= 0x40 && c <= 0x7e) return j - start + 1;
    if (c < 0x20 || c > 0x3f) return j - start; // malformed: stop before the stray byte
    j++;
  }
  return j - start;
}

const CSI_FINAL: Record<string, string> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', P: 'f1', Q: 'f2', R: 'f3', S: 'f4' };
const CSI_TILDE: Record<string, string> = { '1': 'home', '2': 'insert', '3': 'delete', '4': 'end', '5': 'pageup', '6': 'pagedown', '7': 'home', '8': 'end' };

const press = (name: string, over: Partial<KeyPress> = {}): KeyPress => ({ name, ctrl: false, shift: false, meta: false, ...over });

/** What one token from splitKeys means. */
export function decodeKey(token: string): KeyPress {
  if (token.startsWith(ESC + '[')) return decodeCsi(token.slice(2));
  if (token.startsWith(ESC + 'O') && token.length === 3) return press(CSI_FINAL[token[2]] ?? 'unknown');
  switch (token) {
    case ESC:
      return press('escape');
    case '\r':
    case '\n':
      return press('return');
    case '\t':
      return press('tab');
    case '\x7f':
    case '\b':
      return press('backspace');
  }
  const code = token.codePointAt(0) ?? 0;
  if (code >= 1 && code <= 26) return press(String.fromCharCode(code + 96), { ctrl: true });
  if (code < 0x20 || (code >= 0x80 && code < 0xa0)) return press('unknown');
  return press(token);
}

function decodeCsi(body: string): KeyPress {
  const final = body[body.length - 1] ?? '';
  const params = body.slice(0, -1).replace(/^\[/, '').split(';');
  // xterm modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4)
  const mod = Math.max(0, (Number(params[1]) || 1) - 1);
  const mods = { shift: (mod & 1) !== 0, meta: (mod & 2) !== 0, ctrl: (mod & 4) !== 0 };
  if (final === 'Z') return press('tab', { shift: true });
  if (final === '~') return press(CSI_TILDE[params[0]] ?? 'unknown', mods);
  return press(CSI_FINAL[final] ?? 'unknown', mods);
}

/** Every key in one read, in order. */
export function keyPresses(input: string): KeyPress[] {
  return splitKeys(input).map(decodeKey);
}
