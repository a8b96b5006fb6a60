// The dashboard's panels, declared once: the order here is the order on screen, the number
// keys that focus them (1 for the first) and Tab's cycle. Frames, the help and the footer
// read their numbers and titles from this list.
export const PANELS = [
  { id: 'gpus', title: 'GPUs' },
  { id: 'host', title: 'Host' },
  { id: 'services', title: 'Services' },
  { id: 'gateway', title: 'Gateway' },
  { id: 'budgets', title: 'Budgets' },
  { id: 'requests', title: 'Requests' },
] as const;

export type PanelId = (typeof PANELS)[number]['id'];

export const PANEL_IDS: readonly PanelId[] = PANELS.map((p) => p.id);

/** 1-based, as the number key that focuses it and the frame's label show it. */
export function panelNumber(id: PanelId): number {
  return PANEL_IDS.indexOf(id) + 1;
}

export function panelTitle(id: PanelId): string {
  return PANELS[PANEL_IDS.indexOf(id)].title;
}

/** "1 GPUs · 2 Host · …", for the help. */
export function panelList(): string {
  return PANELS.map((p, i) => `${i + 1} ${p.title}`).join(' · ');
}
