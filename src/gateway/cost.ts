// Cost of one request: tokens times the target's per-million prices; a target without
// pricing is a local GPU and costs 0.
import type { Pricing } from '../config/schema.js';
import type { TokenUsage } from './context.js';

export function costUsd(pricing: Pricing | undefined, usage: TokenUsage | null): number {
  if (!pricing || !usage) return 0;
  const p = Number.isFinite(usage.prompt_tokens) ? usage.prompt_tokens : 0;
  const c = Number.isFinite(usage.completion_tokens) ? usage.completion_tokens : 0;
  return (p * pricing.input_usd_per_1m + c * pricing.output_usd_per_1m) / 1_000_000;
}

/**
 * The most tokens one count may claim. Far beyond any real request; an upstream that reports
 * more (or 1e309, which JSON reads as Infinity) is held here, so it is charged the most rather
 * than nothing, and the log and budgets never see Infinity.
 */
export const MAX_USAGE_TOKENS = 1_000_000_000;

/** A token count as reported: not a number or negative is 0, a fraction rounds up, huge is the bound. */
function tokenCount(v: unknown): number {
  if (typeof v !== 'number' || !(v > 0)) return 0;
  return v < MAX_USAGE_TOKENS ? Math.ceil(v) : MAX_USAGE_TOKENS;
}

/** Usage from an upstream JSON body or SSE chunk, normalised; null when absent or malformed. */
export function readUsage(value: unknown): TokenUsage | null {
  if (!value || typeof value !== 'object') return null;
  const u = value as Record<string, unknown>;
  const prompt = tokenCount(u.prompt_tokens);
  const completion = tokenCount(u.completion_tokens);
  // A total is never less than its parts (some providers add reasoning tokens on top).
  const total = Math.max(tokenCount(u.total_tokens), prompt + completion);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}
