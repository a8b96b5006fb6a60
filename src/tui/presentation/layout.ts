// Where each panel goes for a terminal size. Frames are one line shorter than the terminal:
// a frame of full height makes Ink clear the screen on every render (flicker).
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export interface LayoutInput {
  columns: number;
  rows: number;
  /** content lines each panel would like */
  gpuLines: number;
  serviceLines: number;
  budgetLines: number;
}

export interface Layout {
  tooSmall: boolean;
  width: number;
  height: number;
  leftWidth: number;
  rightWidth: number;
  /** GPUs | Host */
  topHeight: number;
  /** Services | Gateway */
  middleHeight: number;
  budgetsHeight: number;
  requestsHeight: number;
  /** the area a full-screen view gets (between title and status line) */
  viewHeight: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

export function computeLayout(i: LayoutInput): Layout {
  const width = i.columns;
  const height = Math.max(1, i.rows - 1);
  const tooSmall = i.columns < MIN_COLUMNS || i.rows < MIN_ROWS;
  const rightWidth = clamp(Math.floor(width * 0.34), 30, 46);
  const leftWidth = width - rightWidth - 1;
  const body = height - 2; // title line + status line
  // Host and Gateway need 4 lines each; GPUs and Services may grow, Requests takes the rest.
  const topHeight = 1 + clamp(i.gpuLines, 4, Math.max(4, Math.floor(body * 0.3)));
  const middleHeight = 1 + clamp(i.serviceLines, 4, Math.max(4, Math.floor(body * 0.25)));
  let budgetsHeight = 1 + clamp(i.budgetLines, 1, Math.max(1, Math.floor(body * 0.2)));
  let requestsHeight = body - topHeight - middleHeight - budgetsHeight;
  if (requestsHeight < 4) {
    const give = Math.min(4 - requestsHeight, budgetsHeight - 2);
    budgetsHeight -= Math.max(0, give);
    requestsHeight = body - topHeight - middleHeight - budgetsHeight;
  }
  return {
    tooSmall,
    width,
    height,
    leftWidth,
    rightWidth,
    topHeight,
    middleHeight,
    budgetsHeight,
    requestsHeight: Math.max(0, requestsHeight),
    viewHeight: Math.max(1, body),
  };
}
