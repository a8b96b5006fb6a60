// Strings an attacker can put in front of the console: in a journal line, a process name
// (argv[0] is anyone's choice), a model name, an error message, a budget target. Each tries
// something different on the terminal; none may reach it.
export const HOSTILE_TEXT: readonly string[] = [
  '\x1b]0;PWNED-TITLE\x07',
  '\x1b]52;c;ZWNobyBwd25lZA==\x07',
  '\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\',
  '\x1b[2J\x1b[H',
  '\x1b[?1049l',
  '\x1bPq#0;2;0;0;0#0~~\x1b\\',
  '\u009b31mC1-RED',
  '\u009d0;C1-TITLE\u009c',
  'bidi\u202eexe.txt',
  'zero\u200bwidth',
  'bell\x07del\x7f',
  '\x1b]0;unterminated',
];

/** The sequences an attacker sent, to look for in raw terminal output (their printable payload
 *  may show up as text: that is harmless). */
export const HOSTILE_MARKERS = ['\x1b]0;', '\x1b]52;', '\x1b]8;', '\x1bP', '\x1b[?1049l', '\u009b31m', '\u009d', '\u202e', '\x07'];
