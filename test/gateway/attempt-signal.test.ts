// The attempt's abort signal against a real undici Pool and a real server that never answers:
// abort() ends the call with undici's own abort error (which the gateway classifies as aborted)
// and closes the connection; a signal aborted before the call stops it before it is sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from '../../src/engines/undici-lite.js';
import { AttemptSignal } from '../../src/gateway/http/attempt-signal.js';
import { classifyUpstreamError, describeUpstreamError } from '../../src/gateway/upstream.js';

let server: http.Server;
let pool: InstanceType<typeof Pool>;
let received = 0;
let closed = 0;

beforeAll(async () => {
  server = http.createServer((req) => {
    received++;
    req.socket.once('close', () => closed++);
  }); // never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await pool.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('AttemptSignal', () => {
  it('abort() ends an upstream call in flight as aborted and closes its connection', async () => {
    const signal = new AttemptSignal();
    const call = pool.request({ path: '/', method: 'POST', body: '{}', signal });
    await expect.poll(() => received).toBe(1);
    signal.abort();
    signal.abort(); // once only
    const err = await call.then(() => null, (e: unknown) => e);
    expect(classifyUpstreamError(err)).toBe('aborted');
    expect(describeUpstreamError(err)).not.toMatch(/UND_ERR/);
    await expect.poll(() => closed).toBe(1);
    expect(signal.listenerCount('abort')).toBe(0);
  });

  it('a signal aborted before the call: nothing is sent', async () => {
    const signal = new AttemptSignal();
    signal.abort();
    const err = await pool.request({ path: '/', method: 'POST', body: '{}', signal }).then(() => null, (e: unknown) => e);
    expect(classifyUpstreamError(err)).toBe('aborted');
    expect(received).toBe(1);
  });
});
