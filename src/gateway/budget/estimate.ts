// The tokens a request may run up, reserved against `block` budgets before it is sent so that
// concurrent requests cannot all pass a nearly spent budget. Deliberately generous: prompt
// characters / 4 tokens, and the completion the client allowed (or a default when it set no
// limit). Priced with the same cost function as real usage (cost.ts).
import { collectTextSlots } from '../../security/request.js';
import type { Endpoint, TokenUsage } from '../context.js';

/** Completion tokens assumed when a request sets no max_tokens. */
export const DEFAULT_COMPLETION_TOKENS = 1024;

const usage = (prompt: number, completion: number): TokenUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

export function estimateTokens(body: Record<string, unknown> | null, endpoint: Endpoint): TokenUsage {
  if (!body) return usage(0, 0);
  let chars = 0;
  for (const slot of collectTextSlots(body)) chars += slot.text.length;
  const promptTokens = Math.ceil(chars / 4);
  if (endpoint === 'embeddings') return usage(promptTokens, 0);
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const perChoice = typeof limit === 'number' && limit > 0 ? limit : DEFAULT_COMPLETION_TOKENS;
  const n = typeof body.n === 'number' && body.n > 1 ? Math.floor(body.n) : 1;
  return usage(promptTokens, perChoice * n);
}
