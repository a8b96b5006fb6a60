// What a virtual key carries besides its hash: its alias and its limits. The same schema checks
// what `ptui keys create` is given and every row read back from a store, because a store file
// is outside input too (a hand edit, a newer or broken writer).
import { z } from 'zod';
import { budgetSchema, windowSeconds, type BudgetEntry } from '../config/schema.js';

export { ALIAS_RE } from './key.js';
import { ALIAS_RE } from './key.js';
/** Far above any real limit, far below where integer arithmetic gets doubtful. */
export const MAX_RPM = 1_000_000_000;
export const MAX_TPM = 1_000_000_000_000;
export const MAX_MODELS = 1000;

export const aliasSchema = z.string().regex(ALIAS_RE, {
  message: 'must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
});

const positiveInt = (max: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .positive({ message: 'must be at least 1' })
    .max(max, { message: `must be at most ${max}` });

export const keyLimitsSchema = z.strictObject({
  budget: budgetSchema.optional(),
  rpm: positiveInt(MAX_RPM).optional(),
  tpm: positiveInt(MAX_TPM).optional(),
  models: z
    .array(z.string().min(1, { message: 'a model name cannot be empty' }).max(256))
    .min(1, { message: 'list at least one model, or leave --models out to allow all' })
    .max(MAX_MODELS)
    .optional(),
});
export type KeyLimits = z.infer<typeof keyLimitsSchema>;

export const keyRecordSchema = z.strictObject({
  alias: aliasSchema,
  /** lowercase hex SHA-256 of the key */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** epoch ms */
  createdAt: z.number().int().nonnegative(),
  expiresAt: z.number().int().nonnegative().nullable(),
  revokedAt: z.number().int().nonnegative().nullable(),
  limits: keyLimitsSchema,
});
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** Usable now: not revoked and not past its expiry. */
export const isActive = (k: KeyRecord, nowMs: number): boolean => k.revokedAt === null && (k.expiresAt === null || nowMs < k.expiresAt);

/** A key's budget as the budget tracker and GET /budgets see it: scope `key`, target its alias. */
export function keyBudgetEntry(k: KeyRecord): BudgetEntry | null {
  const b = k.limits.budget;
  if (!b) return null;
  return { scope: 'key', target: k.alias, max_budget_usd: b.max_budget_usd, budget_window: b.budget_window, window_seconds: windowSeconds(b.budget_window), action: b.action };
}
