// What GET /engines serves, one entry per provider with an engine. Schemas rather than bare
// interfaces so a reader on the other side of HTTP (the console) can check what it got.
import { z } from 'zod';

/** A figure the engine reports; null when it has no value yet (or the engine lacks it: see `unsupported`). */
const figure = z.number().nullable();

export const latencySchema = z.object({ p50: figure, p95: figure });

export const vllmFiguresSchema = z.object({
  running: figure,
  waiting: figure,
  /** KV-cache blocks in use, 0..1 */
  kv_usage: figure,
  /** prefix-cache hits per query over the window, 0..1 */
  prefix_cache_hit_rate: figure,
  prompt_tokens_per_s: figure,
  generation_tokens_per_s: figure,
  ttft_s: latencySchema,
  inter_token_s: latencySchema,
  e2e_s: latencySchema,
  preemptions_total: figure,
  /** finished requests since the engine started, by finished_reason */
  finished_total: z.record(z.string(), z.number()).nullable(),
  /** seconds covered by the rates; quantiles cover up to `latency_window_s` */
  rate_window_s: figure,
  latency_window_s: figure,
  /** generated tokens over the last hour (or since the gateway started scraping, if less) */
  generation_tokens_last_hour: figure,
  /** names of the figures above this engine version does not export */
  unsupported: z.array(z.string()),
});
export type VllmFigures = z.infer<typeof vllmFiguresSchema>;

export const ollamaLoadedSchema = z.object({
  name: z.string(),
  size_bytes: figure,
  size_vram_bytes: figure,
  /** share of the model in VRAM, 0..1 */
  vram_share: figure,
  /** none: all in VRAM; partial: part spilled to CPU memory; cpu: none in VRAM */
  spill: z.enum(['none', 'partial', 'cpu']).nullable(),
  expires_at: z.string().nullable(),
  /** seconds until Ollama unloads it; null = never or unknown */
  unload_in_s: figure,
  context_length: figure,
});
export type OllamaLoaded = z.infer<typeof ollamaLoadedSchema>;

export const ollamaFiguresSchema = z.object({
  loaded: z.array(ollamaLoadedSchema),
  available: z.array(z.object({ name: z.string(), size_bytes: figure })),
  /** how many models /api/tags listed (the list above is capped) */
  available_total: z.number(),
  vram_bytes: figure,
});
export type OllamaFigures = z.infer<typeof ollamaFiguresSchema>;

export const engineKindSchema = z.enum(['vllm', 'ollama']);
export type EngineKind = z.infer<typeof engineKindSchema>;

export const engineStatusSchema = z.object({
  provider: z.string(),
  engine: engineKindSchema,
  url: z.string(),
  /** the last scrape was answered with something readable */
  up: z.boolean(),
  /** why not up */
  error: z.string().nullable(),
  /** readable, but something was off (ignored samples, no vllm: names...) */
  warnings: z.array(z.string()),
  scraped_at: z.string().nullable(),
  scrape_age_s: figure,
  scrape_ms: figure,
  gpu_usd_per_hour: figure,
  /** gpu_usd_per_hour spread over the tokens generated in the last hour */
  usd_per_1m_generated_tokens: figure,
  vllm: vllmFiguresSchema.optional(),
  ollama: ollamaFiguresSchema.optional(),
});
export type EngineStatus = z.infer<typeof engineStatusSchema>;

export const enginesReportSchema = z.object({
  refresh_s: z.number(),
  engines: z.array(engineStatusSchema),
});
export type EnginesReport = z.infer<typeof enginesReportSchema>;
