// A gentle synthetic client for `ptui demo`: a few requests a second through the gateway,
// streamed and not, of varying size, with the demo's failing and unknown models mixed in.
import { DEMO_TRAFFIC } from './config.js';

export interface TrafficOptions {
  baseUrl: string;
  /** average requests per second */
  rate?: number;
  maxInFlight?: number;
  /** sent as a bearer token when the gateway requires one */
  masterKey?: string;
  random?: () => number;
}

export interface Traffic {
  sent(): number;
  stop(): Promise<void>;
}

const PROMPTS = [
  'Summarise the last deployment log in two sentences.',
  'Write a haiku about GPUs running warm at night.',
  'Explain the difference between p50 and p95 latency to a new operator.',
  'Refactor this function to avoid the nested loop and keep it readable.',
  'List three ways to cut inference cost without losing quality.',
];

function pick<T extends { weight: number }>(items: readonly T[], r: number): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = r * total;
  for (const i of items) {
    x -= i.weight;
    if (x <= 0) return i;
  }
  return items[items.length - 1];
}

export function startTraffic(opts: TrafficOptions): Traffic {
  const random = opts.random ?? Math.random;
  const rate = opts.rate ?? 3;
  const maxInFlight = opts.maxInFlight ?? 8;
  const inFlight = new Set<Promise<void>>();
  const controller = new AbortController();
  let sent = 0;
  let timer: NodeJS.Timeout | null = null;

  const one = async (): Promise<void> => {
    const spec = pick(DEMO_TRAFFIC, random());
    const prompt = PROMPTS[Math.floor(random() * PROMPTS.length)];
    const stream = spec.endpoint === 'chat' && random() < 0.5;
    const body =
      spec.endpoint === 'embeddings'
        ? { model: spec.model, input: prompt }
        : { model: spec.model, stream, max_tokens: 16 + Math.floor(random() * 112), messages: [{ role: 'user', content: prompt }] };
    const res = await fetch(`${opts.baseUrl}/v1/${spec.endpoint === 'chat' ? 'chat/completions' : 'embeddings'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.masterKey ? { authorization: `Bearer ${opts.masterKey}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]),
    });
    // Read the whole answer, as a client would (a stream is consumed chunk by chunk).
    await res.arrayBuffer();
  };

  const schedule = () => {
    // exponential gaps: bursty like real clients, `rate` per second on average
    const gap = -Math.log(1 - random()) * (1000 / rate);
    timer = setTimeout(() => {
      if (inFlight.size < maxInFlight) {
        sent++;
        const p: Promise<void> = one()
          .catch(() => {
            // the gateway may still be starting, or restarting: the next request tries again
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      schedule();
    }, Math.min(gap, 5000));
    timer.unref();
  };
  schedule();

  return {
    sent: () => sent,
    async stop() {
      if (timer) clearTimeout(timer);
      controller.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
