// `ptui` (the dashboard). React and Ink pick their development or production build when first
// loaded: development React costs several times the CPU per frame, so production is chosen
// here, before anything loads them, unless NODE_ENV already says otherwise.
import type { DashboardOptions } from './session.js';

export type { DashboardOptions } from './session.js';

export async function runDashboard(opts: DashboardOptions): Promise<number> {
  process.env.NODE_ENV ??= 'production';
  const { runSession } = await import('./session.js');
  return runSession(opts);
}
