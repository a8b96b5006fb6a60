// An OpenAI-compatible upstream that echoes the prompt back as the completion, for the secrets
// suite: with it a secret that got past the guardrails would come back in the response, and so
// would end up in the cache or a log if anything stored response text. Records every body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoUpstream {
  url: string;
  port: number;
  /** raw request bodies, in arrival order */
  bodies: string[];
  close(): Promise<void>;
}

/** Every string inside messages / prompt / input, joined. */
function promptText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(promptText).join(' ');
  if (v && typeof v === 'object') return Object.values(v as Record<string, unknown>).map(promptText).join(' ');
  return '';
}

export function startEchoUpstream(): Promise<EchoUpstream> {
  const bodies: string[] = [];
  let seq = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      bodies.push(raw);
      let body: Record<string, any>;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"bad json","type":"invalid_request_error"}}');
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      // A concrete model ending in @reverse answers with the prompt reversed: an answer that can
      // hold a secret the request did not.
      const prompt = promptText(body.messages ?? body.prompt ?? body.input);
      const text = `echo: ${String(body.model).endsWith('@reverse') ? [...prompt].reverse().join('') : prompt}`;
      const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
      const id = `echo-${++seq}`;
      const model = String(body.model);
      if (path.endsWith('/embeddings')) {
        const out = JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model, usage, echo: text });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(out);
        return;
      }
      const chat = path.endsWith('/chat/completions');
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const object = chat ? 'chat.completion.chunk' : 'text_completion';
        const half = Math.floor(text.length / 2);
        for (const piece of [text.slice(0, half), text.slice(half)]) {
          const choice = chat ? { index: 0, delta: { content: piece }, finish_reason: null } : { index: 0, text: piece, finish_reason: null };
          res.write(`data: ${JSON.stringify({ id, object, created: 1, model, choices: [choice] })}\n\n`);
        }
        const last = chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' };
        res.write(`data: ${JSON.stringify({ id, object, created: 1, model, choices: [last] })}\n\n`);
        if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, object, created: 1, model, choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      const choice = chat
        ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }
        : { index: 0, text, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: chat ? 'chat.completion' : 'text_completion', created: 1, model, choices: [choice], usage }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        bodies,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
