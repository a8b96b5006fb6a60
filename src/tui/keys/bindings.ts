// Every key binding of the dashboard as data: which keys, in which modes, for which command.
// One matcher reads the table and the help and footer print it, so what is shown can never
// disagree with what matches.
import type { ServiceVerb } from '../../system/types.js';
import { PANELS, type PanelId } from '../panels/catalog.js';
import type { Motion } from '../presentation/listCursor.js';
import type { KeyPress } from './keyPress.js';

export type Command =
  | { type: 'quit' }
  | { type: 'focusNext' }
  | { type: 'focusPrev' }
  | { type: 'focus'; panel: PanelId }
  | { type: 'move'; motion: Motion }
  | { type: 'detail' }
  | { type: 'service'; verb: ServiceVerb }
  | { type: 'exportConfig' }
  | { type: 'restartGateway' }
  | { type: 'journal' }
  | { type: 'gatewayLog' }
  | { type: 'routing' }
  | { type: 'help' }
  | { type: 'close' }
  | { type: 'confirm' }
  | { type: 'confirmAlternative' }
  | { type: 'cancel' }
  | { type: 'filter' }
  | { type: 'dismiss' }
  | { type: 'inputChar'; char: string }
  | { type: 'inputBackspace' }
  | { type: 'inputClear' }
  | { type: 'inputAccept' }
  | { type: 'inputCancel' };

export type CommandType = Command['type'];

/**
 * What the keyboard is talking to. `confirm`: a y/n question is open and takes every key.
 * `input`: a one-line prompt (the `/` filter) is open and every character is typed into it
 * (presentation/textInput.ts says what each key does to the text).
 * `view`: a full-screen view (routing, journal, log, detail, help) is open over the panels.
 */
export type KeyMode = 'main' | 'view' | 'confirm' | 'input';

/** A KeySpec name that matches any one printable character (no key press is named so). */
export const ANY_CHARACTER = 'any character';

/** A printable character as itself ('G' is not 'g'), or a named key with its modifiers. */
export interface KeySpec {
  name: string;
  ctrl?: boolean;
  shift?: boolean;
}

export interface KeyBinding {
  keys: readonly KeySpec[];
  description: string;
  modes: readonly KeyMode[];
  command: Command;
}

const MAIN: readonly KeyMode[] = ['main'];
const MAIN_AND_VIEW: readonly KeyMode[] = ['main', 'view'];
const INPUT: readonly KeyMode[] = ['input'];

const k = (...names: string[]): KeySpec[] => names.map((name) => ({ name }));
const move = (motion: Motion): Command => ({ type: 'move', motion });

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { keys: k('tab'), description: 'focus the next panel', modes: MAIN, command: { type: 'focusNext' } },
  { keys: [{ name: 'tab', shift: true }], description: 'focus the previous panel', modes: MAIN, command: { type: 'focusPrev' } },
  ...PANELS.map(
    (panel, i): KeyBinding => ({ keys: k(String(i + 1)), description: `focus ${panel.title}`, modes: MAIN, command: { type: 'focus', panel: panel.id } }),
  ),
  { keys: k('j', 'down'), description: 'next row of the focused list (services, budgets, requests) or view', modes: MAIN_AND_VIEW, command: move('down') },
  { keys: k('k', 'up'), description: 'previous row', modes: MAIN_AND_VIEW, command: move('up') },
  { keys: k('g', 'home'), description: 'first row', modes: MAIN_AND_VIEW, command: move('top') },
  { keys: k('G', 'end'), description: 'last row', modes: MAIN_AND_VIEW, command: move('bottom') },
  { keys: k('pagedown'), description: 'a page down', modes: MAIN_AND_VIEW, command: move('pageDown') },
  { keys: k('pageup'), description: 'a page up', modes: MAIN_AND_VIEW, command: move('pageUp') },
  { keys: k('return'), description: 'detail of the selected row (or, with an error on the status line, the whole error)', modes: MAIN, command: { type: 'detail' } },
  { keys: k('/'), description: 'filter the focused list (Requests: the whole usage log), or search the view; literal text', modes: MAIN_AND_VIEW, command: { type: 'filter' } },
  { keys: k('escape'), description: "dismiss the status line's error, else clear the focused list's filter", modes: MAIN, command: { type: 'dismiss' } },
  { keys: k('s'), description: 'start the selected service', modes: MAIN, command: { type: 'service', verb: 'start' } },
  { keys: k('x'), description: 'stop the selected service (asks y/n)', modes: MAIN, command: { type: 'service', verb: 'stop' } },
  { keys: k('r'), description: 'restart the selected service (asks y/n; d drains it at the gateway first)', modes: MAIN, command: { type: 'service', verb: 'restart' } },
  { keys: k('l'), description: 'journal of the selected service, following new lines', modes: MAIN_AND_VIEW, command: { type: 'journal' } },
  { keys: k('L'), description: "the gateway's log, following new lines", modes: MAIN_AND_VIEW, command: { type: 'gatewayLog' } },
  { keys: k('c'), description: 'routing table and config', modes: MAIN_AND_VIEW, command: { type: 'routing' } },
  { keys: k('e'), description: 'export the config (runtime/*.json, *.yaml)', modes: MAIN, command: { type: 'exportConfig' } },
  { keys: k('R'), description: 'restart the gateway (asks y/n)', modes: MAIN, command: { type: 'restartGateway' } },
  { keys: k('?'), description: 'this help', modes: MAIN_AND_VIEW, command: { type: 'help' } },
  { keys: k('y', 'Y'), description: 'answer yes', modes: ['confirm'], command: { type: 'confirm' } },
  {
    keys: k('d', 'D'),
    description: 'the offered alternative: restart drains the provider first when the gateway routes to it',
    modes: ['confirm'],
    command: { type: 'confirmAlternative' },
  },
  { keys: k('n', 'N', 'q', 'escape'), description: 'answer no', modes: ['confirm'], command: { type: 'cancel' } },
  { keys: k('q', 'escape'), description: 'close the view', modes: ['view'], command: { type: 'close' } },
  { keys: k(ANY_CHARACTER), description: 'type into the prompt (every character as itself)', modes: INPUT, command: { type: 'inputChar', char: '' } },
  { keys: k('backspace'), description: 'delete the last character', modes: INPUT, command: { type: 'inputBackspace' } },
  { keys: [{ name: 'u', ctrl: true }], description: 'clear the prompt', modes: INPUT, command: { type: 'inputClear' } },
  { keys: k('return'), description: 'keep the filter, close the prompt', modes: INPUT, command: { type: 'inputAccept' } },
  { keys: k('escape'), description: 'clear the filter, close the prompt', modes: INPUT, command: { type: 'inputCancel' } },
  { keys: k('q'), description: 'quit (the gateway keeps serving)', modes: MAIN, command: { type: 'quit' } },
  { keys: [{ name: 'c', ctrl: true }], description: 'quit, from anywhere', modes: ['main', 'view', 'confirm', 'input'], command: { type: 'quit' } },
];

/** The key of a question's third answer (drain first), as the status line shows it. */
export function alternativeKey(): string {
  const b = KEY_BINDINGS.find((x) => x.command.type === 'confirmAlternative')!;
  return keyLabel(b.keys[0]);
}

/** Alt combinations bind nothing; Shift counts for named keys (a letter carries its case). */
export function keyMatches(spec: KeySpec, key: KeyPress): boolean {
  if (spec.name === ANY_CHARACTER) return !key.meta && !key.ctrl && [...key.name].length === 1;
  if (key.meta || spec.name !== key.name || Boolean(spec.ctrl) !== key.ctrl) return false;
  return [...spec.name].length === 1 || Boolean(spec.shift) === key.shift;
}

export function resolveKey(key: KeyPress, mode: KeyMode): Command | null {
  for (const b of KEY_BINDINGS) {
    if (!b.modes.includes(mode) || !b.keys.some((s) => keyMatches(s, key))) continue;
    return b.command.type === 'inputChar' ? { type: 'inputChar', char: key.name } : b.command;
  }
  return null;
}

const KEY_NAMES: Record<string, string> = {
  up: '↑', down: '↓', left: '←', right: '→', pageup: 'PgUp', pagedown: 'PgDn', home: 'Home', end: 'End',
  tab: 'Tab', return: 'Enter', escape: 'Esc', backspace: 'Backspace', delete: 'Del', ' ': 'Space',
};

export function keyLabel(spec: KeySpec): string {
  const base = KEY_NAMES[spec.name] ?? (spec.ctrl ? spec.name.toUpperCase() : spec.name);
  return `${spec.ctrl ? 'Ctrl-' : ''}${spec.shift ? 'Shift-' : ''}${base}`;
}

export function bindingLabel(b: KeyBinding): string {
  return b.keys.map(keyLabel).join(' / ');
}

/** The rows of the help overlay: one per binding. */
export function helpRows(): { label: string; description: string }[] {
  return KEY_BINDINGS.map((b) => ({ label: bindingLabel(b), description: b.description }));
}

/** The footer: each entry names the commands it sums up; their first keys make its label. */
/** `spare`: on a narrow terminal the footer leaves these out first (lowest first); ? lists them. */
const FOOTER: ReadonlyArray<{ text: string; short: string; commands: readonly CommandType[]; spare?: number }> = [
  { text: 'focus', short: 'focus', commands: ['focusNext', 'focus'] },
  { text: 'select', short: 'move', commands: ['move'] },
  { text: 'detail', short: 'open', commands: ['detail'], spare: 5 },
  { text: 'filter', short: 'filter', commands: ['filter'], spare: 7 },
  { text: 'start/stop/restart', short: 'unit', commands: ['service'], spare: 6 },
  { text: 'journal/log', short: 'logs', commands: ['journal', 'gatewayLog'], spare: 4 },
  { text: 'routing', short: 'route', commands: ['routing'], spare: 3 },
  { text: 'export', short: 'export', commands: ['exportConfig'], spare: 1 },
  { text: 'gateway', short: 'gw', commands: ['restartGateway'], spare: 2 },
  { text: 'help', short: 'help', commands: ['help'] },
  { text: 'quit', short: 'quit', commands: ['quit'] },
];

/** Runs of consecutive digits ("1","2",…,"6") read better as a range ("1-6"). */
function collapseDigits(labels: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    let j = i;
    while (/^\d$/.test(labels[j]) && labels[j + 1] === String(Number(labels[j]) + 1)) j++;
    out.push(j > i + 1 ? `${labels[i]}-${labels[j]}` : labels[i]);
    if (j > i + 1) i = j;
  }
  return out;
}

function footerEntry(entry: (typeof FOOTER)[number], short: boolean): string {
  const bindings = KEY_BINDINGS.filter((b) => b.modes.includes('main') && entry.commands.includes(b.command.type));
  // a list's motions are summed up by the first two (j/k); short: one key per binding
  const labels = bindings.slice(0, entry.commands.includes('move') ? 2 : undefined).map((b) => keyLabel(b.keys[0]));
  const keys = collapseDigits([...new Set(short ? labels.filter((l) => l !== 'Ctrl-C') : labels)]).join('/');
  return `${keys} ${short ? entry.short : entry.text}`;
}

/**
 * The key hints for the status line, whole at this width: the long form, else the short one,
 * leaving out the spare entries one by one until it fits (help and quit always stay).
 */
export function footerHints(width = Number.MAX_SAFE_INTEGER): string {
  // the status line asks on every frame; the bindings never change, so each width's answer is kept
  let hints = footerByWidth.get(width);
  if (hints === undefined) {
    if (footerByWidth.size >= 64) footerByWidth.clear();
    hints = fitFooter(width);
    footerByWidth.set(width, hints);
  }
  return hints;
}

const footerByWidth = new Map<number, string>();

function fitFooter(width: number): string {
  const long = FOOTER.map((e) => footerEntry(e, false)).join(' · ');
  if (long.length <= width) return long;
  let entries = [...FOOTER];
  let text = entries.map((e) => footerEntry(e, true)).join(' · ');
  for (let rank = 1; text.length > width && entries.some((e) => e.spare !== undefined); rank++) {
    entries = entries.filter((e) => e.spare !== rank);
    text = entries.map((e) => footerEntry(e, true)).join(' · ');
  }
  return text;
}
