// The demo's config: two "providers" that are both the in-process simulated upstream (a free
// local GPU server and a priced cloud API), logical models with fallbacks, and budgets sized
// so that one of them turns yellow and then red within about a minute of demo traffic.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** What the traffic generator asks for, and how often (weights). */
export const DEMO_TRAFFIC = [
  { model: 'chat', weight: 4, endpoint: 'chat' },
  { model: 'gpt-4o', weight: 3, endpoint: 'chat' },
  { model: 'code', weight: 2, endpoint: 'chat' },
  { model: 'flaky', weight: 1, endpoint: 'chat' },
  { model: 'embed', weight: 1, endpoint: 'embeddings' },
  // an unknown model: the gateway answers 404 and logs the rejection, as in real life
  { model: 'gpt-5-preview', weight: 0.3, endpoint: 'chat' },
] as const;

export function demoConfigFiles(simUrl: string): Record<string, unknown> {
  const api = `${simUrl}/v1`;
  return {
    'providers.yaml': {
      providers: {
        'local-gpu': { type: 'openai-compatible', api_base: api, health_url: `${simUrl}/health`, timeout_s: 30 },
        cloud: {
          type: 'openai-compatible',
          api_base: api,
          timeout_s: 30,
          budget: { max_budget_usd: 1, budget_window: '1d', action: 'warn' },
        },
      },
    },
    'model-mappings.yaml': {
      capabilities: { chat: {}, code: { budget: { max_budget_usd: 0.5, budget_window: '1d' } }, embeddings: {} },
      models: {
        chat: {
          capability: 'chat',
          targets: [
            { provider: 'local-gpu', model: 'llama-3.1-8b-instruct' },
            { provider: 'cloud', model: 'gpt-4o-mini', pricing: { input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 } },
          ],
        },
        'gpt-4o': {
          capability: 'chat',
          // small on purpose: at the demo's rate it crosses 80 % and then 100 % within a minute
          budget: { max_budget_usd: 0.02, budget_window: '1h', action: 'warn' },
          targets: [{ provider: 'cloud', model: 'gpt-4o', pricing: { input_usd_per_1m: 2.5, output_usd_per_1m: 10 } }],
        },
        code: { capability: 'code', targets: [{ provider: 'local-gpu', model: 'qwen2.5-coder-7b' }] },
        // the first target always fails (the simulator's @500 knob): every request falls back
        flaky: {
          capability: 'chat',
          targets: [
            { provider: 'local-gpu', model: 'mixtral-8x7b@500' },
            { provider: 'cloud', model: 'gpt-4o-mini', pricing: { input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 } },
          ],
        },
        embed: { capability: 'embeddings', targets: [{ provider: 'local-gpu', model: 'bge-m3' }] },
      },
    },
    'gateway.yaml': { guardrails: { secrets: { action: 'block' } } },
  };
}

/** Writes the demo config under `<home>/config`. */
export function writeDemoConfig(home: string, simUrl: string): void {
  const dir = path.join(home, 'config');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, doc] of Object.entries(demoConfigFiles(simUrl))) {
    fs.writeFileSync(path.join(dir, name), `# ptui demo config (temporary)\n${YAML.stringify(doc)}`);
  }
}
