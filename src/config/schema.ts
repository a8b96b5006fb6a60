// The shape of ptui's three config files (README, "Configuration"). Types are inferred from these
// schemas, never written twice. Cross-file references (a target's provider, a model's
// capability) are checked in validate.ts, because zod sees one file at a time.
import { z } from 'zod';
import { hasUnprintable } from './problems.js';

// The window grammar lives in window.ts (no zod there: the command line parses flags with it).
export { BUDGET_WINDOW_RE, MAX_WINDOW_SECONDS, windowSeconds } from './window.js';
import { BUDGET_WINDOW_RE, MAX_WINDOW_SECONDS, windowSeconds } from './window.js';

// systemd unit names: a plain name with a known suffix, no path, no shell metacharacters, no
// backslash escapes, and no leading '-' (systemctl would read `-x.service` as an option).
export const UNIT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9:_.@-]*\.(service|socket|target|timer|mount|path|scope|slice)$/;

// A name the operator gives (provider, model, capability, a target's model) reaches log lines,
// metric labels, the console and HTTP headers: no control or invisible format characters
// (escape sequences, zero-width and bidi marks, line separators), and a length a table can show.
const MAX_NAME = 256;
function nameProblem(s: string): string | null {
  if (s.length > MAX_NAME) return `must be at most ${MAX_NAME} characters`;
  if (hasUnprintable(s)) return 'must not contain control or invisible characters';
  return null;
}
const configName = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    const why = nameProblem(s);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
/** A mapping whose keys are such names (checked here: zod reports a bad record key without its reason). */
function namedRecord<T extends z.ZodType>(value: T) {
  return z.record(z.string().min(1), value).superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) {
      const why = nameProblem(key);
      if (why) ctx.addIssue({ code: 'custom', path: [key], message: `name ${why}` });
    }
  });
}

const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'not a valid http(s) URL' },
);

export const budgetSchema = z.strictObject({
  max_budget_usd: z.number({ error: 'must be a number' }).positive({ message: 'must be > 0' }).finite(),
  budget_window: z
    .string()
    .regex(BUDGET_WINDOW_RE, { message: 'must match ^[0-9]+(s|m|h|d|w|mo)$ (e.g. 30m, 12h, 1d, 1mo)' })
    // NaN (grammar already failed) passes here so a bad window gets one message, not two.
    .refine((w) => !(windowSeconds(w) <= 0), { message: 'window must be longer than zero' })
    .refine((w) => !(windowSeconds(w) > MAX_WINDOW_SECONDS), { message: 'window must be at most 10 years' }),
  action: z.enum(['warn', 'block']).default('warn'),
});
export type Budget = z.infer<typeof budgetSchema>;

export const providerSchema = z.strictObject({
  type: z.enum(['openai-compatible', 'ollama', 'openai']),
  api_base: httpUrl,
  api_key: z.string().optional(),
  service: z
    .string()
    .regex(UNIT_NAME_RE, {
      message: 'must be a plain systemd unit name such as vllm.service (no spaces, paths or shell characters)',
    })
    .optional(),
  health_url: httpUrl.optional(),
  // A deadline for a whole non-streamed request. Streams have their own two: the time to the
  // first content event, and the longest silence between events once it came (both default to
  // timeout_s). SSE comment lines are not events.
  timeout_s: z.number().positive().max(86400).default(600),
  first_token_timeout_s: z.number().positive().max(86400).optional(),
  idle_timeout_s: z.number().positive().max(86400).optional(),
  budget: budgetSchema.optional(),
  // The inference server behind the provider, whose own figures (queue, KV cache, loaded
  // models) the gateway reads; unset = ollama for type ollama, none for openai, and for other
  // OpenAI-compatible servers vllm when <api_base without /v1>/metrics has vllm: names.
  engine: z.enum(['vllm', 'ollama', 'none']).optional(),
  metrics_url: httpUrl.optional(),
  gpu_usd_per_hour: z.number().nonnegative().finite().optional(),
  // How POST /v1/responses reaches the provider: passed through (it serves the Responses API),
  // or translated to chat completions. Unset: native for openai and openai-compatible, translate
  // for ollama (see responsesMode).
  responses: z.enum(['native', 'translate']).optional(),
  /** balanced routing passes this target over while its engine reports this much load */
  saturation: z
    .strictObject({
      max_waiting: z.number().int().nonnegative().optional(),
      max_kv_usage: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** skip the provider for `seconds` (doubling, at most 5 min) after `failures` consecutive failures */
  cooldown: z
    .strictObject({
      failures: z.number().int().min(1).max(1000).default(3),
      seconds: z.number().positive().max(300).default(10),
    })
    .optional(),
});
export type Provider = z.infer<typeof providerSchema>;

/** How /v1/responses reaches a provider: its `responses` setting, else the default for its type. */
export const responsesMode = (p: Provider): 'native' | 'translate' => p.responses ?? (p.type === 'ollama' ? 'translate' : 'native');

export const providersFileSchema = z.strictObject({
  providers: namedRecord(providerSchema).refine((p) => Object.keys(p).length > 0, {
    message: 'at least one provider is required',
  }),
  services: z
    .strictObject({ systemctl_scope: z.enum(['system', 'user']).default('system') })
    .default({ systemctl_scope: 'system' }),
});
export type ProvidersFile = z.infer<typeof providersFileSchema>;

export const pricingSchema = z.strictObject({
  input_usd_per_1m: z.number().nonnegative().finite(),
  output_usd_per_1m: z.number().nonnegative().finite(),
});
export type Pricing = z.infer<typeof pricingSchema>;

export const targetSchema = z.strictObject({
  provider: configName,
  model: configName,
  pricing: pricingSchema.optional(),
});
export type Target = z.infer<typeof targetSchema>;

// `chat: {}` and a bare `chat:` (null) both mean a capability without a budget.
export const capabilitySchema = z.preprocess((v) => v ?? {}, z.strictObject({ budget: budgetSchema.optional() }));

/** Requests and tokens per sliding minute for everything sent to one logical model. */
export const rateLimitsSchema = z
  .strictObject({
    rpm: z.number().int({ message: 'must be a whole number' }).positive({ message: 'must be at least 1' }).max(1e9).optional(),
    tpm: z.number().int({ message: 'must be a whole number' }).positive({ message: 'must be at least 1' }).max(1e12).optional(),
  })
  .refine((r) => r.rpm !== undefined || r.tpm !== undefined, { message: 'set rpm, tpm or both' });
export type RateLimits = z.infer<typeof rateLimitsSchema>;

export const modelSchema = z.strictObject({
  capability: configName,
  budget: budgetSchema.optional(),
  rate_limits: rateLimitsSchema.optional(),
  targets: z.array(targetSchema).min(1, { message: 'a model needs at least one target' }),
  /** ordered: targets tried in order; balanced: targets share the load */
  routing: z.enum(['ordered', 'balanced']).default('ordered'),
  /** tried in order once every target failed or was passed over */
  fallbacks: z.array(targetSchema).default([]),
});
export type LogicalModel = z.infer<typeof modelSchema>;

export const mappingsFileSchema = z.strictObject({
  capabilities: namedRecord(capabilitySchema),
  models: namedRecord(modelSchema).refine((m) => Object.keys(m).length > 0, {
    message: 'at least one model is required',
  }),
});
export type MappingsFile = z.infer<typeof mappingsFileSchema>;

/** `redis://` or `rediss://` (TLS), with optional user, password and database number. */
const redisUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      // no ?query: the client would read its options from it; TLS files go under shared.tls
      return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '' && /^(\/\d{0,2})?$/.test(u.pathname) && u.search === '' && u.hash === '';
    } catch {
      return false;
    }
  },
  { message: 'must be redis://[user:password@]host[:port][/db], or rediss:// for TLS (no ?options: TLS files go under shared.tls)' },
);

/** Several gateways enforcing one set of budgets through one Redis (README "Several boxes"). */
export const sharedSchema = z.strictObject({
  redis_url: redisUrl,
  /** unique per gateway; defaults to the host name */
  gateway_id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
    .optional(),
  /** what a request touching a budget gets while Redis does not answer within 50 ms */
  on_unavailable: z.enum(['local', 'block']).default('local'),
  /** TLS files for rediss:// (paths relative to home or absolute) */
  tls: z
    .strictObject({
      ca_file: z.string().min(1).optional(),
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
      /** the name the server certificate must carry; default the URL's host */
      servername: z.string().min(1).optional(),
    })
    .optional(),
}).refine((s) => !s.tls || s.redis_url.startsWith('rediss://'), { message: 'tls needs a rediss:// redis_url', path: ['tls'] });
export type SharedConfig = z.infer<typeof sharedSchema>;

export const gatewayFileSchema = z.strictObject({
  master_key: z.string().optional(),
  max_body_bytes: z.number().int().positive().default(10 * 1024 * 1024),
  // A non-streamed upstream body, or one SSE event, larger than this ends the request with 502.
  max_response_bytes: z.number().int().positive().default(32 * 1024 * 1024),
  // The longest an extra callback module's hook may take before it is abandoned.
  callback_timeout_ms: z.number().int().positive().max(600_000).default(2000),
  guardrails: z
    .strictObject({
      secrets: z.strictObject({ action: z.enum(['block', 'redact', 'warn']).default('block') }).default({ action: 'block' }),
    })
    .default({ secrets: { action: 'block' } }),
  cache: z
    .strictObject({
      enabled: z.boolean().default(false),
      ttl_s: z.number().positive().default(86400),
      max_bytes: z.number().int().positive().default(512 * 1024 * 1024),
    })
    .default({ enabled: false, ttl_s: 86400, max_bytes: 512 * 1024 * 1024 }),
  callbacks: z
    .array(
      z
        .string()
        .min(1)
        .refine((p) => !p.split(/[\\/]/).includes('..') && !p.startsWith('/'), {
          message: 'callback path must be relative to home and must not contain ".."',
        }),
    )
    .default([]),
  shared: sharedSchema.optional(),
  /** the console's own settings */
  console: z
    .strictObject({
      /** quitting the console (or an SSH hangup, or a crash) stops the gateway it started */
      stop_gateway_on_exit: z.boolean().default(false),
    })
    .default({ stop_gateway_on_exit: false }),
});
export type GatewayFile = z.infer<typeof gatewayFileSchema>;

/** Scopes a config file can budget; `key` budgets come with virtual keys (`ptui keys create`). */
export type ConfigBudgetScope = 'provider' | 'model' | 'capability';
export type BudgetScope = ConfigBudgetScope | 'key';

/** `scope:target`: one budget's identity, stable across reloads (no scope holds a colon). */
export const budgetKey = (scope: BudgetScope, target: string): string => `${scope}:${target}`;

/** One budget as exported to runtime/budget_config.json and served by GET /budgets. */
export interface BudgetEntry {
  scope: BudgetScope;
  target: string;
  max_budget_usd: number;
  budget_window: string;
  window_seconds: number;
  action: 'warn' | 'block';
}

/** A budget with its live spend, as GET /budgets serves it and the dashboard shows it. */
export interface BudgetStatus extends BudgetEntry {
  spend_usd: number;
  remaining_usd: number;
  exceeded: boolean;
  /** shared mode: spend_usd is the sum over gateways; this says how it splits */
  shared?: SharedBudgetStatus;
}

/** One budget across the gateways sharing a Redis, as last read (at most about a second old). */
export interface SharedBudgetStatus {
  /** this gateway's own spend (live) */
  local_spend_usd: number;
  /** reservations of requests in flight on every gateway, budget leases included */
  reserved_usd: number;
  /** reserved_usd per gateway; leased_usd is the part of it held as a budget lease */
  gateways: Array<{ gateway_id: string; spend_usd: number; reserved_usd: number; leased_usd?: number }>;
  /** when the global figures were read, ISO 8601; null while Redis has not answered yet */
  read_at: string | null;
}
