// One line of typed text, as the `/` prompt holds it: what each key of the `input` key mode
// does to it (keys/bindings.ts), as a pure function, so any list or view can offer a prompt
// through the same keys. What is typed is taken literally: no character has a meaning.
import type { Command } from '../keys/bindings.js';
import { cleanText } from '../data/cleanText.js';

/** Longer input is refused key by key: a paste cannot grow the prompt without bound. */
export const MAX_INPUT_CHARS = 200;

/** The text after one key of the input mode; other commands leave it as it was. */
export function editInput(text: string, cmd: Command): string {
  switch (cmd.type) {
    case 'inputChar': {
      // a bidi override or other format character would reorder the status line: not typed
      if (cleanText(cmd.char) !== cmd.char || [...text].length >= MAX_INPUT_CHARS) return text;
      return text + cmd.char;
    }
    case 'inputBackspace':
      return [...text].slice(0, -1).join('');
    case 'inputClear':
      return '';
    default:
      return text;
  }
}
