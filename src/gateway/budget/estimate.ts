// The cost a request may run up, reserved against `block` budgets before it is sent so that
// concurrent requests cannot all pass a nearly spent budget. Deliberately generous: prompt
// characters / 4 tokens, and the completion the client allowed (or a default when it set no
// limit), at the price of the dearest target that may answer.
import type { Pricing } from '../../config/schema.js';
import { collectTextSlots } from '../../security/request.js';
import type { Endpoint } from '../context.js';

/** Completion tokens assumed when a request sets no max_tokens. */
export const DEFAULT_COMPLETION_TOKENS = 1024;

export interface TokenEstimate {
  promptTokens: number;
  completionTokens: number;
}

export function estimateTokens(body: Record<string, unknown> | null, endpoint: Endpoint): TokenEstimate {
  if (!body) return { promptTokens: 0, completionTokens: 0 };
  let chars = 0;
  for (const slot of collectTextSlots(body)) chars += slot.text.length;
  const promptTokens = Math.ceil(chars / 4);
  if (endpoint === 'embeddings') return { promptTokens, completionTokens: 0 };
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const perChoice = typeof limit === 'number' && limit > 0 ? limit : DEFAULT_COMPLETION_TOKENS;
  const n = typeof body.n === 'number' && body.n > 1 ? Math.floor(body.n) : 1;
  return { promptTokens, completionTokens: perChoice * n };
}

export function costAt(pricing: Pricing | undefined, t: TokenEstimate): number {
  if (!pricing) return 0;
  return (t.promptTokens * pricing.input_usd_per_1m + t.completionTokens * pricing.output_usd_per_1m) / 1e6;
}
