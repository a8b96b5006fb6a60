// Whether a periodic task is due, asked from a timer of about the same period. Timers fire a
// little early or late, and a check that came 1 ms early would skip a whole period: a tenth of
// the period is slack.

/** At least nine tenths of `intervalMs` have passed since `lastAt`. */
export function isDue(lastAt: number, intervalMs: number, now: number): boolean {
  return now - lastAt >= intervalMs * 0.9;
}
