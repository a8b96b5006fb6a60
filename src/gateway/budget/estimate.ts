// The tokens a request may run up, reserved against `block` budgets before it is sent so that
// concurrent requests cannot all pass a nearly spent budget. Deliberately generous: the body's
// characters / 4 tokens, and the completion the client allowed (or a default when it set no
// limit) for every choice it asked for. Priced with the same cost function as real usage (cost.ts).
//
// The fields the estimate multiplies are checked first (checkEstimateFields, called by the body
// validation): JSON reads 1e309 as Infinity, and one Infinity reserved is a NaN released, after
// which `spend + reserved >= max` is never true again.
import { stringChars } from '../../security/strings.js';
import type { Context, Endpoint, TokenUsage } from '../context.js';
import { badRequest } from '../errors.js';

/** Completion tokens assumed when a request sets no max_tokens. */
export const DEFAULT_COMPLETION_TOKENS = 1024;

/**
 * Allowed range of each field that feeds the estimate. `n` and `best_of` are OpenAI's limits;
 * 10 M completion tokens is beyond any context window served today, and keeps the product of
 * all of them far inside the doubles' exact integers.
 */
export const ESTIMATE_FIELD_RANGES = {
  n: { min: 1, max: 128 },
  best_of: { min: 1, max: 128 },
  max_tokens: { min: 1, max: 10_000_000 },
  max_completion_tokens: { min: 1, max: 10_000_000 },
  max_output_tokens: { min: 1, max: 10_000_000 },
} as const;
type EstimateField = keyof typeof ESTIMATE_FIELD_RANGES;
const ESTIMATE_FIELDS = Object.keys(ESTIMATE_FIELD_RANGES) as EstimateField[];

/** Throws a 400 naming the first field that is present, not null, and not an integer in its range. */
export function checkEstimateFields(body: Record<string, unknown>): void {
  for (const field of ESTIMATE_FIELDS) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    const { min, max } = ESTIMATE_FIELD_RANGES[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw badRequest(`"${field}" must be an integer from ${min} to ${max}`, field);
    }
  }
}

/** A checked field's value, or undefined; never trusts that the check ran. */
function field(body: Record<string, unknown>, name: EstimateField): number | undefined {
  const v = body[name];
  const { min, max } = ESTIMATE_FIELD_RANGES[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.min(Math.floor(v), max) : undefined;
}

const usage = (prompt: number, completion: number): TokenUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

export function estimateTokens(body: Record<string, unknown> | null, endpoint: Endpoint): TokenUsage {
  if (!body) return usage(0, 0);
  // Every string the upstream receives (tools, schemas and names are billed as prompt too).
  const chars = stringChars(body);
  const promptTokens = Math.ceil(chars / 4);
  if (endpoint === 'embeddings') return usage(promptTokens, 0);
  const perChoice =
    field(body, 'max_completion_tokens') ?? field(body, 'max_tokens') ?? field(body, 'max_output_tokens') ?? DEFAULT_COMPLETION_TOKENS;
  // best_of generates that many completions server-side, and they are billed.
  const choices = Math.max(field(body, 'n') ?? 1, field(body, 'best_of') ?? 1);
  return usage(promptTokens, perChoice * choices);
}

/**
 * estimateTokens of the request's body as it is now, worked out once however many callbacks ask
 * (the rate limits and the budgets both do; the walk is over every string of the body). A
 * callback that changes the body replaces it (as the guardrails' redaction does), which makes
 * the next caller count again.
 */
export function requestEstimate(ctx: Context): TokenUsage {
  const memo = ctx.estimate;
  if (memo !== null && memo.body === ctx.body) return memo.tokens;
  const tokens = estimateTokens(ctx.body, ctx.endpoint);
  ctx.estimate = { body: ctx.body, tokens };
  return tokens;
}

/**
 * What a request that ended early is charged when the provider reported no usage: the prompt as
 * estimated here, and the completion tokens ptui counted as they were relayed.
 */
export function countedUsage(body: Record<string, unknown> | null, endpoint: Endpoint, completionTokens: number): TokenUsage {
  return usage(estimateTokens(body, endpoint).prompt_tokens, completionTokens);
}
