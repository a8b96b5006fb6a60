// How a usage row becomes one INSERT: the statement, its parameters in column order, and which
// write errors a row will hit again however often it is retried.
import type { UsageRow, UsageSource } from './schema.js';

export const USAGE_INSERT_SQL = `INSERT INTO llm_usage (
  request_id, timestamp, provider, logical_model, concrete_model, capability, endpoint, stream,
  prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, ttft_ms, status,
  http_status, error_type, error_message, cache_hit, attempts, usage_source, key_alias
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// Errors a row will hit again however often it is retried (bad data, not a bad disk).
const PERMANENT_CODES = new Set(['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_RANGE', 'SQLITE_TOOBIG']);

export function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err instanceof TypeError || err instanceof RangeError;
  return PERMANENT_CODES.has(code) || code.startsWith('SQLITE_CONSTRAINT_');
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** 'estimated' only when said so; otherwise the provider's, as long as there are tokens to speak of. */
function usageSource(r: UsageRow): UsageSource | null {
  if (r.usage_source === 'estimated') return 'estimated';
  if (r.usage_source === 'upstream') return 'upstream';
  return num(r.prompt_tokens) !== null || num(r.completion_tokens) !== null || num(r.total_tokens) !== null ? 'upstream' : null;
}

/** USAGE_INSERT_SQL's parameters for a row: non-finite numbers become NULL (or 0 where NOT NULL). */
export function insertParams(r: UsageRow): unknown[] {
  return [
    r.request_id,
    r.timestamp,
    r.provider ?? null,
    r.logical_model ?? null,
    r.concrete_model ?? null,
    r.capability ?? null,
    r.endpoint,
    r.stream ? 1 : 0,
    num(r.prompt_tokens),
    num(r.completion_tokens),
    num(r.total_tokens),
    num(r.cost_usd),
    num(r.latency_ms) ?? 0,
    num(r.ttft_ms),
    r.status,
    num(r.http_status) ?? 0,
    r.error_type ?? null,
    r.error_message ?? null,
    r.cache_hit ? 1 : 0,
    num(r.attempts) ?? 0,
    usageSource(r),
    typeof r.key_alias === 'string' ? r.key_alias : null,
  ];
}
