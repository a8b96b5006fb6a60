// The shared rate-limit scripts against a real redis-server, with the clock passed in: three
// clients (three gateways' connections) racing over one window admit exactly the limit, the
// minute slides second by second as the local counter's does, a refusal names the wait until
// enough leaves the window, tokens are reserved by estimate and corrected by the settle, and a
// request over two limits is counted in both or in neither.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RATE_ADMIT_LUA, RATE_SETTLE_LUA } from '../../src/gateway/shared/rate-scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { hasTool, TOOLS } from '../helpers/tools.js';

type Scripted = Redis & { admit(...a: Array<string | number>): Promise<number[]>; settle(...a: Array<string | number>): Promise<number> };

const T0 = 1_800_000_000_000; // a whole second, so offsets read as seconds into the window

describe.skipIf(!hasTool(TOOLS.redis))('shared rate-limit scripts in a real Redis', () => {
  let redis: RedisServer;
  const clients: Scripted[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 3; i++) {
      const c = new Redis({ port: redis.port, host: '127.0.0.1' }) as Scripted;
      c.defineCommand('admit', { numberOfKeys: 0, lua: RATE_ADMIT_LUA });
      c.defineCommand('settle', { numberOfKeys: 0, lua: RATE_SETTLE_LUA });
      clients.push(c);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });
  beforeEach(async () => {
    await clients[0]!.flushall();
  });

  /** One request against subjects [id, rpm, tpm, estimate]; the reply decoded. */
  const admit = async (c: Scripted, now: number, ...subjects: Array<[string, number, number, number]>) => {
    const r = (await c.admit(now, subjects.length, ...subjects.flat())).map(Number);
    return {
      admitted: r[0] === 0,
      refused: r[0]! - 1,
      kind: r[1] === 1 ? 'requests' : r[1] === 2 ? 'tokens' : null,
      waitMs: r[2]!,
      second: r[3]!,
      views: subjects.map((_, i) => ({ requests: r[4 + i * 4]!, tokens: r[5 + i * 4]!, resetRequestsMs: r[6 + i * 4]!, resetTokensMs: r[7 + i * 4]! })),
    };
  };

  it('60 concurrent requests over three connections against rpm 10 admit exactly 10', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => admit(clients[i % 3]!, T0 + 500, ['key:limited', 10, 0, 0])));
    const admitted = results.filter((r) => r.admitted).length;
    console.log(`rate script race: ${admitted} of 60 admitted against rpm 10 (three connections)`);
    expect(admitted).toBe(10);
    expect(results.filter((r) => !r.admitted).every((r) => r.kind === 'requests' && r.views[0]!.requests === 10)).toBe(true);
  });

  it('slides by the second: a request counted at second 0 leaves the window when second 60 begins', async () => {
    const c = clients[0]!;
    for (let i = 0; i < 3; i++) expect((await admit(c, T0 + 100, ['key:k', 5, 0, 0])).admitted).toBe(true);
    for (let i = 0; i < 2; i++) expect((await admit(c, T0 + 30_000, ['key:k', 5, 0, 0])).admitted).toBe(true);
    const refused = await admit(c, T0 + 59_999, ['key:k', 5, 0, 0]);
    expect(refused).toMatchObject({ admitted: false, kind: 'requests', waitMs: 1 });
    // the reset is when the newest counted second leaves: second 30 leaves at 90 s
    expect(refused.views[0]).toMatchObject({ requests: 5, resetRequestsMs: 90_000 - 59_999 });
    const later = await admit(c, T0 + 60_000, ['key:k', 5, 0, 0]);
    expect(later.admitted).toBe(true);
    expect(later.views[0]!.requests).toBe(3); // the three of second 0 left, this one came
    // more than one wanted: the wait runs until enough have left, oldest first
    await admit(c, T0 + 60_000, ['key:k', 5, 0, 0]);
    await admit(c, T0 + 60_000, ['key:k', 5, 0, 0]);
    expect(await admit(c, T0 + 61_000, ['key:k', 5, 0, 0])).toMatchObject({ admitted: false, waitMs: 90_000 - 61_000 });
    // a minute and more of silence: everything has left
    expect((await admit(c, T0 + 200_000, ['key:k', 5, 0, 0])).views[0]!.requests).toBe(1);
  });

  it('reserves the token estimate, corrected by the settle in the second it was admitted in', async () => {
    const c = clients[1]!;
    const a = await admit(c, T0 + 1000, ['key:t', 0, 1000, 600]);
    expect(a).toMatchObject({ admitted: true, second: T0 / 1000 + 1 });
    expect(a.views[0]!.tokens).toBe(600);
    expect(await admit(c, T0 + 1500, ['key:t', 0, 1000, 600])).toMatchObject({ admitted: false, kind: 'tokens', waitMs: 61_000 - 1500 });
    // it used 100 of its 600
    await c.settle(T0 + 2000, 'key:t', a.second, -500);
    const b = await admit(c, T0 + 2500, ['key:t', 0, 1000, 600]);
    expect(b.admitted).toBe(true);
    expect(b.views[0]!.tokens).toBe(700);
    // a settle for a second that already left the window brings nothing back
    await c.settle(T0 + 70_000, 'key:t', a.second, 5000);
    expect((await admit(c, T0 + 70_000, ['key:t', 0, 1000, 0])).views[0]!.tokens).toBe(0);
  });

  it('a request under two limits is counted in both or in neither', async () => {
    const c = clients[2]!;
    expect((await admit(c, T0, ['key:a', 1, 0, 0])).admitted).toBe(true);
    // the key is full: the model's window must not count the refused request
    const r = await admit(c, T0 + 10, ['model:m', 5, 0, 0], ['key:a', 1, 0, 0]);
    expect(r).toMatchObject({ admitted: false, refused: 1, kind: 'requests' });
    expect(r.views[0]!.requests).toBe(0);
    const ok = await admit(c, T0 + 20, ['model:m', 5, 0, 0], ['key:b', 1, 0, 0]);
    expect(ok.admitted).toBe(true);
    expect(ok.views.map((v) => v.requests)).toEqual([1, 1]);
  });
});
