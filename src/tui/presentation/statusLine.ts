// The bottom line: a pending question, else the last action's outcome for a while, else
// what is wrong with the config or the usage log, else the key hints.
import type { Tone } from '../contexts/ThemeContext.js';
import { footerHints } from '../keys/bindings.js';

export interface StatusMessage {
  text: string;
  tone: Tone | null;
}

/** A y/n question on the status line, and what the status line says on no. */
export interface Confirm {
  question: string;
  refused: string;
}

export function statusLine(s: {
  confirm: Confirm | null;
  flash: StatusMessage | null;
  configErrors: string[];
  configInvalid: boolean;
  usageNotice: string | null;
  width: number;
}): StatusMessage {
  if (s.confirm) return { text: `${s.confirm.question} y/n`, tone: 'warn' };
  if (s.flash) return s.flash;
  if (s.configErrors.length > 0) {
    const more = s.configErrors.length > 1 ? ` (+${s.configErrors.length - 1} more, c shows all)` : ' (c shows it)';
    return { text: `config invalid: ${s.configErrors[0]}${more}`, tone: 'bad' };
  }
  if (s.configInvalid) return { text: 'config invalid: c shows why', tone: 'bad' };
  if (s.usageNotice) return { text: s.usageNotice, tone: 'warn' };
  return { text: footerHints(s.width), tone: 'dim' };
}
