// Budget windows such as `12h`: the grammar and its length in seconds.

/** `^[0-9]+(s|m|h|d|w|mo)$`, m = minutes, mo = 30 days; zero is not a window. */
export const BUDGET_WINDOW_RE = /^([0-9]+)(s|m|h|d|w|mo)$/;

const WINDOW_UNIT_SECONDS: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  mo: 30 * 86400,
};

/** Ten years: anything longer is a typo, and would overflow date arithmetic downstream. */
export const MAX_WINDOW_SECONDS = 10 * 365 * 86400;

/** Seconds in a budget window such as `12h`; NaN for anything the grammar rejects. */
export function windowSeconds(window: string): number {
  const m = BUDGET_WINDOW_RE.exec(window);
  if (!m) return Number.NaN;
  return Number(m[1]) * WINDOW_UNIT_SECONDS[m[2]];
}
