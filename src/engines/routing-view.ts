// What GET /admin/providers serves, one entry per provider: the gateway's routing state beside
// its engine's live load. Defined here, below both the gateway that serves it and the console
// that reads it over HTTP, so the two share one schema.
import { z } from 'zod';

export const providerRoutingViewSchema = z.object({
  name: z.string(),
  /** draining: drained with requests still in flight; drained: none left */
  state: z.enum(['active', 'cooling_down', 'draining', 'drained']),
  in_flight: z.number(),
  consecutive_failures: z.number(),
  /** seconds left in the current cool-down; null when not cooling */
  cooldown_s_left: z.number().nullable(),
  /** whether balanced routing passes it over now for its engine's load; null without a saturation rule or figures */
  saturated: z.boolean().nullable(),
  engine: z
    .object({ up: z.boolean(), running: z.number().nullable(), waiting: z.number().nullable(), kv_usage: z.number().nullable() })
    .nullable(),
});
export type ProviderRoutingView = z.infer<typeof providerRoutingViewSchema>;

export const adminProvidersSchema = z.object({ providers: z.array(providerRoutingViewSchema) });
export type AdminProviders = z.infer<typeof adminProvidersSchema>;
