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

/** Usage from an upstream JSON body or SSE chunk, normalised; null when absent or malformed. */
export function readUsage(value: unknown): TokenUsage | null {
  if (!value || typeof value !== 'object') return null;
  const u = value as Record<string, unknown>;
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}
