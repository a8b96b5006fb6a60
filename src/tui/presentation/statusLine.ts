// The bottom line: a pending question, else the `/` prompt being typed, else the last action's
// outcome for a while, else an error kept until dismissed, else what is wrong with the config
// or the usage log, else the key hints.
import type { Tone } from '../contexts/ThemeContext.js';
import { alternativeKey, footerHints } from '../keys/bindings.js';
import { displayWidth, fit } from './format.js';

export interface StatusMessage {
  text: string;
  tone: Tone | null;
}

/** A y/n question on the status line, and what the status line says on no. */
export interface Confirm {
  question: string;
  /** shown on n; '' shows nothing (the asker reports the outcome itself) */
  refused: string;
  /** a third answer besides y and n (its key: the confirm-mode alternative binding) */
  alternative?: string;
}

const PROMPT_HINT = '  Enter keeps · Esc clears';
const ALERT_HINT = ' · Enter reads all · Esc dismisses';

/** `text` then `hint`, the text cut so that the hint always shows whole. */
function withHint(text: string, hint: string, width: number): string {
  if (displayWidth(text) + displayWidth(hint) <= width) return text + hint;
  return fit(text, Math.max(1, width - displayWidth(hint))) + hint;
}

export function statusLine(s: {
  confirm: Confirm | null;
  /** the text of the open `/` prompt */
  prompt?: string | null;
  flash: StatusMessage | null;
  /** an error kept until dismissed */
  alert?: string | null;
  configErrors: string[];
  configInvalid: boolean;
  usageNotice: string | null;
  width: number;
}): StatusMessage {
  if (s.confirm) {
    const alt = s.confirm.alternative ? `${alternativeKey()} ${s.confirm.alternative} · ` : '';
    return { text: `${s.confirm.question} ${alt}y/n`, tone: 'warn' };
  }
  if (typeof s.prompt === 'string') {
    // the end of a long text is what was typed last: keep it in view
    const room = Math.max(1, s.width - displayWidth(PROMPT_HINT) - 2);
    const typed = displayWidth(s.prompt) < room ? s.prompt : '…' + [...s.prompt].slice(-(room - 1)).join('');
    return { text: `/${typed}█${PROMPT_HINT}`, tone: 'accent' };
  }
  if (s.flash) return s.flash;
  if (s.alert) return { text: withHint(s.alert, ALERT_HINT, s.width), tone: 'bad' };
  if (s.configErrors.length > 0) {
    const more = s.configErrors.length > 1 ? ` (+${s.configErrors.length - 1} more, c shows all)` : ' (c shows it)';
    return { text: `config invalid: ${s.configErrors[0]}${more}`, tone: 'bad' };
  }
  if (s.configInvalid) return { text: 'config invalid: c shows why', tone: 'bad' };
  if (s.usageNotice) return { text: s.usageNotice, tone: 'warn' };
  return { text: footerHints(s.width), tone: 'dim' };
}
