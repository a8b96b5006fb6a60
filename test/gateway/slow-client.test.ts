// A client that reads a stream slowly: the gateway stops reading the upstream while the client's
// socket is full and carries on once it drains, so the client still gets every byte in order, and
// the row is written once the whole answer is through. Also the reader under it (eachChunk) on its
// own, against a real HTTP server through undici: a pending drain pauses the body and holds back
// its end, a throw ends the body, and a body cut before its end rejects.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachChunk } from '../../src/gateway/http/wire.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, TestGateways, waitFor, type GatewayChild } from '../helpers/gateway.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const gateways = new TestGateways();

beforeAll(async () => {
  sim = await startSimUpstream({ chunkIntervalMs: 0 });
  home = gateways.simHome(sim.url, { models: { big: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] } } });
  gw = await gateways.start(home);
});

afterAll(async () => {
  await gateways.cleanup();
  await sim?.close();
});

/** Sends a streamed chat and pauses the response until `hold` resolves; the whole body as text. */
function pausedStream(url: string, id: string, maxTokens: number, hold: () => Promise<void>): Promise<{ status: number; text: string }> {
  const body = JSON.stringify({ model: 'big', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: 'a long one' }] });
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id } }, (res) => {
      res.pause();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      hold().then(() => res.resume(), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a slow client', () => {
  it('gets a 16 MB stream whole and in order after holding it back, and its row comes after', async () => {
    const tokens = 100_000; // ~16 MB of events: more than the kernel's socket buffers on both hops hold
    const id = 'slow-reader-1';
    const r = await pausedStream(gw.url, id, tokens, async () => {
      // the upstream has written every token; the client has read nothing, so the answer is not through
      await waitFor(() => sim.requests.find((q) => q.tokensSent === tokens), 'the upstream to write every token', 30_000);
      expect(readUsageRows(home.runtimeDir).find((row) => row.request_id === id)).toBeUndefined();
    });
    expect(r.status).toBe(200);
    const events = r.text.split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const contents = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? null);
    expect(contents.filter((c) => typeof c === 'string' && c !== '').length).toBe(tokens);
    const row = await waitFor(() => readUsageRows(home.runtimeDir).find((x) => x.request_id === id), 'the row');
    expect(row).toMatchObject({ status: 'success', completion_tokens: tokens, usage_source: 'upstream' });
  });
});

describe('eachChunk', () => {
  let server: http.Server;
  let pool: Pool;
  let onRequest: (res: http.ServerResponse) => void = () => {};

  beforeAll(async () => {
    server = http.createServer((_req, res) => onRequest(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await pool.close();
    await new Promise((r) => server.close(r));
  });

  const get = () => pool.request({ path: '/', method: 'GET' });

  it('pauses on a pending promise, resumes when it settles, and ends only after the last one', async () => {
    let release!: () => void;
    let written = 0;
    onRequest = (res) => {
      res.write('one');
      // the second chunk only once the first was handed over and is being held
      void waitFor(() => release !== undefined, 'the hold').then(() => {
        res.end('two');
        written = 2;
      });
    };
    const up = await get();
    const seen: string[] = [];
    let settled = false;
    const done = eachChunk(up, (c) => {
      seen.push(c.toString());
      if (seen.length === 1) return new Promise<void>((r) => (release = r));
    }).then(() => (settled = true));
    await waitFor(() => written === 2, 'the server to end');
    // the body has ended on the wire, but the first chunk's promise is pending: nothing more yet
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['one']);
    expect(settled).toBe(false);
    release();
    await done;
    expect(seen.join('')).toBe('onetwo');
  });

  it('a throw ends the body and rejects with it', async () => {
    onRequest = (res) => {
      res.write('x');
      // never ends on its own
    };
    const up = await get();
    const boom = new Error('over the bound');
    await expect(eachChunk(up, () => {
      throw boom;
    })).rejects.toBe(boom);
    expect(up.body.destroyed).toBe(true);
  });

  it('a body cut before its end rejects', async () => {
    onRequest = (res) => {
      res.write('partial');
      setImmediate(() => res.destroy());
    };
    const up = await get();
    await expect(eachChunk(up, () => {})).rejects.toBeInstanceOf(Error);
  });
});
