// A gateway with two simulated upstreams for the Responses API suites: `native` serves
// POST /v1/responses itself (passed through), `chat-only` serves chat completions only (the
// gateway translates). Logical models name the path they take; `@cut` ones break mid-stream.
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from './config.js';
import { readUsageRows, TestGateways, waitFor, type GatewayChild } from './gateway.js';

export const MASTER_KEY = 'responses-test-key';

/** The sim's reply to a request without max_output_tokens (8 words). */
export const SIM_TEXT = 'The simulated upstream answers with these fixed words';

/** A function tool in the Responses API's shape. */
export const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** The LLM calls a sim got: the gateway also probes the sims in the background (GETs). */
export const llmCallsOf = (sim: SimUpstream) => sim.requests.filter((r) => r.method === 'POST');

export interface ResponsesFixture {
  native: SimUpstream;
  chatOnly: SimUpstream;
  home: TempHome;
  gw: GatewayChild;
  baseURL: string;
  /** LLM calls that reached either sim so far */
  llmCalls(): number;
  /** the usage row of one request, by the x-request-id the gateway answered with */
  rowFor(requestId: string): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startResponsesFixture(gatewayYaml: Record<string, unknown> = {}): Promise<ResponsesFixture> {
  const native = await startSimUpstream({ responses: true });
  const chatOnly = await startSimUpstream();
  const gateways = new TestGateways();
  const home = gateways.simHome(native.url, {
    providers: {
      // openai-compatible serves /v1/responses by default; this one is told it does not.
      'chat-only': { type: 'openai-compatible', api_base: `${chatOnly.url}/v1`, responses: 'translate', timeout_s: 30 },
      // ollama translates by default
      local: { type: 'ollama', api_base: `${chatOnly.url}/v1`, timeout_s: 30 },
      // a chat-only server left at the openai-compatible default (native): a misconfiguration
      'chat-only-native': { type: 'openai-compatible', api_base: `${chatOnly.url}/v1`, timeout_s: 30 },
    },
    models: {
      native: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1, output_usd_per_1m: 2 } }] },
      translated: { capability: 'chat', targets: [{ provider: 'chat-only', model: 'sim-model', pricing: { input_usd_per_1m: 1, output_usd_per_1m: 2 } }] },
      ollama: { capability: 'chat', targets: [{ provider: 'local', model: 'sim-model' }] },
      'native-cut': { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model@cut' }] },
      'translated-cut': { capability: 'chat', targets: [{ provider: 'chat-only', model: 'sim-model@cut' }] },
      'translated-badjson': { capability: 'chat', targets: [{ provider: 'chat-only', model: 'sim-model@badjson' }] },
      misconfigured: { capability: 'chat', targets: [{ provider: 'chat-only-native', model: 'sim-model' }] },
      'meta-llama/Llama-3.1-8B-Instruct': { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
    },
    gateway: { master_key: MASTER_KEY, ...gatewayYaml },
  });
  const gw = await gateways.start(home);
  return {
    native,
    chatOnly,
    home,
    gw,
    baseURL: `${gw.url}/v1`,
    llmCalls: () => llmCallsOf(native).length + llmCallsOf(chatOnly).length,
    rowFor: (requestId) =>
      waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === requestId), `the row of ${requestId}`),
    close: async () => {
      await gateways.cleanup();
      await native.close();
      await chatOnly.close();
    },
  };
}
