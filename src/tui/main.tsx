// `ptui` (the dashboard). React and Ink pick their development or production build when first
// loaded: development React costs several times the CPU per frame, so production is chosen
// here, before anything loads them, unless NODE_ENV already says otherwise (`ptui` runs this
// file from its bundle, dist/console, which holds the production build only).
import type { DashboardOptions } from './session.js';

export type { DashboardOptions } from './session.js';

export async function runDashboard(opts: DashboardOptions): Promise<number> {
  process.env.NODE_ENV ??= 'production';
  // Ink (through is-in-ci, read once at load) draws only the last frame when CI or
  // CONTINUOUS_INTEGRATION is set, and supports-color turns colours off whenever CI exists at all.
  // The dashboard on a terminal is interactive whatever the environment says (an operator's shell
  // or a CI job driving it in tmux), so both must not see them. NO_COLOR still rules colours.
  if (process.stdout.isTTY) {
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
  }
  const { runSession } = await import('./session.js');
  return runSession(opts);
}
