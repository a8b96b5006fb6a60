// Temp dirs and sample usage rows, for every suite that needs a scratch directory or a row.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UsageRow } from '../../src/usage/schema.js';

export function tempDir(prefix = 'ptui-usage-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

let seq = 0;

/** A complete row with every column set to a distinct, checkable value. */
export function sampleRow(over: Partial<UsageRow> = {}): UsageRow {
  seq++;
  return {
    request_id: `req-${seq}`,
    timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, seq % 1000)).toISOString(),
    provider: 'vllm',
    logical_model: 'gpt-4',
    concrete_model: 'meta-llama/Llama-3.1-70B-Instruct',
    capability: 'chat',
    endpoint: 'chat',
    stream: 1,
    prompt_tokens: 11,
    completion_tokens: 22,
    total_tokens: 33,
    cost_usd: 0.00125,
    latency_ms: 123.5,
    ttft_ms: 45.25,
    status: 'success',
    http_status: 200,
    error_type: null,
    error_message: null,
    cache_hit: 0,
    attempts: 2,
    usage_source: 'upstream',
    key_alias: null,
    ...over,
  };
}
