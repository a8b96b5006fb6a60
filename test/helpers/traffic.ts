// A client sending chat traffic through a gateway until told to stop: several requests at a
// time, plain and streamed in turn, each failure kept (a socket error, a status other than 200,
// a stream without [DONE]). The tests that restart an engine under load count on it.
import type { Agent } from 'undici';
import { send, type Kind } from '../faults/fixture.js';

export interface SteadyTraffic {
  /** requests started so far */
  readonly sent: number;
  readonly failures: readonly string[];
  /** the plain and the streamed request it sends */
  readonly kinds: readonly Kind[];
  /** stops sending and resolves once every request in flight has ended */
  stop(): Promise<void>;
}

export function chatKinds(model: string, content: string): Kind[] {
  return [false, true].map((stream) => ({
    name: stream ? 'stream' : 'json',
    path: '/v1/chat/completions',
    body: { model, stream, messages: [{ role: 'user', content }], max_tokens: 6 },
    status: 200,
    row: 'success',
    done: stream,
  }));
}

export function steadyTraffic(o: { agent: Agent; url: string; model: string; concurrency: number; idPrefix: string }): SteadyTraffic {
  let stopped = false;
  let sent = 0;
  const failures: string[] = [];
  const kinds = chatKinds(o.model, 'a steady stream of traffic');
  const workers = Promise.all(
    Array.from({ length: o.concurrency }, async (_, w) => {
      while (!stopped) {
        const i = sent++;
        const kind = kinds[i % kinds.length];
        const r = await send(o.agent, o.url, kind, `${o.idPrefix}-${w}-${i}`);
        const broken =
          r.error ??
          (r.status !== 200 ? `HTTP ${r.status}: ${r.text.slice(0, 160)}` : kind.done && !r.text.trimEnd().endsWith('data: [DONE]') ? 'stream without [DONE]' : null);
        if (broken) failures.push(`${r.id} (${kind.name}): ${broken}`);
      }
    }),
  );
  return {
    get sent() {
      return sent;
    },
    failures,
    kinds,
    stop: async () => {
      stopped = true;
      await workers;
    },
  };
}
