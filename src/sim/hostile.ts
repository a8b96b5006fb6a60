// The simulated upstream's hostile modes: answers that never end or never say anything, for the
// gateway's bounds and timeouts. Each keeps writing until the caller closes the connection.
//   endless       a 200 JSON body that never ends, written as fast as the socket takes it
//   endless_line  a 200 SSE stream whose first `data:` line never ends
//   comments      a 200 SSE stream of comment lines (`: ping`) only, one every commentIntervalMs
//   drip          a complete, valid non-streamed answer sent one byte every dripIntervalMs
import type http from 'node:http';

export const HOSTILE_MODES = ['endless', 'endless_line', 'comments', 'drip'] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

export const isHostileMode = (m: string): m is HostileMode => (HOSTILE_MODES as readonly string[]).includes(m);

export interface HostileSettings {
  commentIntervalMs: number;
  dripIntervalMs: number;
}

/** Counted per request so tests can see how much was sent before the caller gave up. */
export interface SentCounter {
  bytesSent: number;
}

const FILL = Buffer.alloc(64 * 1024, 'a');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes FILL until the connection goes, waiting for drain so memory stays flat on this side. */
async function flood(res: http.ServerResponse, sent: SentCounter): Promise<void> {
  while (!res.destroyed) {
    sent.bytesSent += FILL.length;
    if (!res.write(FILL)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
}

export async function serveHostile(mode: HostileMode, res: http.ServerResponse, model: string, s: HostileSettings, sent: SentCounter): Promise<void> {
  const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  switch (mode) {
    case 'endless':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"endless","object":"chat.completion","junk":"');
      return flood(res, sent);
    case 'endless_line':
      res.writeHead(200, sse);
      res.write('data: {"id":"endless","choices":[{"index":0,"delta":{"content":"');
      return flood(res, sent);
    case 'comments':
      res.writeHead(200, sse);
      while (!res.destroyed) {
        res.write(': ping\n\n');
        sent.bytesSent += 8;
        await sleep(s.commentIntervalMs);
      }
      return;
    case 'drip': {
      const body = JSON.stringify({
        id: 'drip',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'slowly' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      for (let i = 0; i < body.length && !res.destroyed; i++) {
        res.write(body[i]);
        sent.bytesSent++;
        await sleep(s.dripIntervalMs);
      }
      res.end();
      return;
    }
  }
}
