// What the panels show in the first frame, before the collectors have reported: "not known
// yet", never a made-up zero or an empty list that would read as "nothing configured".
import type { GpuState, ServicesState } from '../../system/types.js';
import type { UsageFeedState } from './usageFeed.js';
import type { BudgetFeedState } from './budgetFeed.js';

export const INITIAL_GPU: GpuState = { available: true, notice: null, gpus: [], processes: [], updatedAt: null };

export const READING_UNITS = 'reading unit state…';
export const INITIAL_SERVICES: ServicesState = { systemdAvailable: false, notice: READING_UNITS, services: [] };
export const INITIAL_USAGE: UsageFeedState = { rows: [], dbState: 'absent', notice: 'reading the usage log…', stats: null };
export { INITIAL_ENGINES } from './engineFeed.js';
export const INITIAL_BUDGETS: BudgetFeedState = { rows: [], source: null, notice: 'reading budgets…' };
