// Every key binding of the dashboard, in one table: the App dispatches what resolveKey returns
// and the help overlay prints KEY_BINDINGS, so the two can never disagree.
import type { Key } from 'ink';

export const PANELS = ['gpus', 'host', 'services', 'gateway', 'budgets', 'requests'] as const;
export type PanelId = (typeof PANELS)[number];

export const PANEL_TITLES: Record<PanelId, string> = {
  gpus: 'GPUs',
  host: 'Host',
  services: 'Services',
  gateway: 'Gateway',
  budgets: 'Budgets',
  requests: 'Requests',
};

export type ServiceVerb = 'start' | 'stop' | 'restart';

export type Command =
  | { type: 'quit' }
  | { type: 'focusNext' }
  | { type: 'focusPrev' }
  | { type: 'focus'; panel: PanelId }
  | { type: 'down' }
  | { type: 'up' }
  | { type: 'pageDown' }
  | { type: 'pageUp' }
  | { type: 'service'; verb: ServiceVerb }
  | { type: 'exportConfig' }
  | { type: 'restartGateway' }
  | { type: 'journal' }
  | { type: 'routing' }
  | { type: 'help' }
  | { type: 'close' }
  | { type: 'confirm' }
  | { type: 'cancel' };

/**
 * What the keyboard is talking to. `confirm`: a y/n question is open and takes every key.
 * `view`: a full-screen view (routing, journal, help) is open over the panels.
 */
export type KeyMode = 'main' | 'view' | 'confirm';

export interface KeyBinding {
  /** how the help overlay names the keys */
  label: string;
  description: string;
  modes: readonly KeyMode[];
  match(input: string, key: Key): boolean;
  command: Command;
}

const MAIN: readonly KeyMode[] = ['main'];
const MAIN_AND_VIEW: readonly KeyMode[] = ['main', 'view'];
const ANY: readonly KeyMode[] = ['main', 'view', 'confirm'];

const ch = (c: string) => (input: string, key: Key) => input === c && !key.ctrl && !key.meta;

export const KEY_BINDINGS: readonly KeyBinding[] = [
  {
    label: 'Tab',
    description: 'focus the next panel',
    modes: MAIN,
    match: (_i, k) => k.tab && !k.shift,
    command: { type: 'focusNext' },
  },
  {
    label: 'Shift-Tab',
    description: 'focus the previous panel',
    modes: MAIN,
    match: (_i, k) => k.tab && k.shift,
    command: { type: 'focusPrev' },
  },
  ...PANELS.map(
    (panel, i): KeyBinding => ({
      label: String(i + 1),
      description: `focus ${PANEL_TITLES[panel]}`,
      modes: MAIN,
      match: ch(String(i + 1)),
      command: { type: 'focus', panel },
    }),
  ),
  {
    label: 'j / ↓',
    description: 'select next (services) / scroll (requests, views)',
    modes: MAIN_AND_VIEW,
    match: (i, k) => k.downArrow || ch('j')(i, k),
    command: { type: 'down' },
  },
  {
    label: 'k / ↑',
    description: 'select previous / scroll back',
    modes: MAIN_AND_VIEW,
    match: (i, k) => k.upArrow || ch('k')(i, k),
    command: { type: 'up' },
  },
  {
    label: 'PgDn / PgUp',
    description: 'scroll a page',
    modes: MAIN_AND_VIEW,
    match: (_i, k) => k.pageDown,
    command: { type: 'pageDown' },
  },
  {
    label: '',
    description: '',
    modes: MAIN_AND_VIEW,
    match: (_i, k) => k.pageUp,
    command: { type: 'pageUp' },
  },
  { label: 's', description: 'start the selected service', modes: MAIN, match: ch('s'), command: { type: 'service', verb: 'start' } },
  { label: 'x', description: 'stop the selected service (asks y/n)', modes: MAIN, match: ch('x'), command: { type: 'service', verb: 'stop' } },
  {
    label: 'r',
    description: 'restart the selected service (asks y/n)',
    modes: MAIN,
    match: ch('r'),
    command: { type: 'service', verb: 'restart' },
  },
  { label: 'l', description: 'journal of the selected service', modes: MAIN_AND_VIEW, match: ch('l'), command: { type: 'journal' } },
  { label: 'c', description: 'routing table and config', modes: MAIN_AND_VIEW, match: ch('c'), command: { type: 'routing' } },
  { label: 'g', description: 'regenerate config (config export)', modes: MAIN, match: ch('g'), command: { type: 'exportConfig' } },
  { label: 'G', description: 'restart the gateway child', modes: MAIN, match: ch('G'), command: { type: 'restartGateway' } },
  { label: '?', description: 'this help', modes: MAIN_AND_VIEW, match: ch('?'), command: { type: 'help' } },
  { label: 'Esc', description: 'close the view / answer no', modes: ['view', 'confirm'], match: (_i, k) => k.escape, command: { type: 'close' } },
  { label: 'y / n', description: 'answer a confirmation', modes: ['confirm'], match: (i) => i === 'y' || i === 'Y', command: { type: 'confirm' } },
  { label: '', description: '', modes: ['confirm'], match: (i) => i === 'n' || i === 'N', command: { type: 'cancel' } },
  { label: 'q / Ctrl-C', description: 'quit (terminal restored, gateway child stopped)', modes: ANY, match: ch('q'), command: { type: 'quit' } },
  { label: '', description: '', modes: ANY, match: (i, k) => k.ctrl && i === 'c', command: { type: 'quit' } },
];

export function resolveKey(input: string, key: Key, mode: KeyMode): Command | null {
  for (const b of KEY_BINDINGS) {
    if (b.modes.includes(mode) && b.match(input, key)) return b.command;
  }
  return null;
}

/** The rows of the help overlay: bindings without a label are second keys of the row above. */
export function helpRows(): { label: string; description: string }[] {
  return KEY_BINDINGS.filter((b) => b.label !== '').map(({ label, description }) => ({ label, description }));
}
