// The usage-log row (README, "Usage log"). One row per request that reached an LLM endpoint of the gateway.
export interface UsageRow {
  request_id: string;
  /** ISO 8601 UTC with ms, request start */
  timestamp: string;
  provider: string | null;
  logical_model: string | null;
  concrete_model: string | null;
  capability: string | null;
  endpoint: string;
  stream: 0 | 1;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number;
  ttft_ms: number | null;
  status: 'success' | 'error';
  http_status: number;
  error_type: string | null;
  error_message: string | null;
  cache_hit: 0 | 1;
  attempts: number;
  /**
   * Where the token counts came from: 'upstream' when the provider reported usage, 'estimated'
   * when ptui counted them (a stream that ended early). Left out: 'upstream' when the row has
   * tokens, null when it has none (a rejected request).
   */
  usage_source?: UsageSource | null;
  /** The virtual key's alias (never the key); null for the master key or no auth. */
  key_alias?: string | null;
}

export const USAGE_SOURCES = ['upstream', 'estimated'] as const;
export type UsageSource = (typeof USAGE_SOURCES)[number];

/** A row as read back, with its id. */
export interface StoredUsageRow extends UsageRow {
  id: number;
}

/**
 * Bumped with every migration in db.ts; a database newer than this is refused with a clear notice.
 * v1: llm_usage and its time-range indexes. v2: llm_usage_minute, a per-minute rollup by
 * provider, logical model and capability kept exact by triggers (what dashboard aggregates read).
 * v3: a partial index of rows with a negative or missing cost. v4: usage_source and key_alias.
 * v5: indexes for finding rows by status, error type and request id (the console's filter).
 * v6: the capability index dropped (an insert touches one B-tree fewer). v7: the provider and
 * model indexes dropped (two fewer).
 */
export const USAGE_SCHEMA_VERSION = 7;
