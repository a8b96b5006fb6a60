// A virtual key's budget shared by two real gateways on one Redis: the same alias, created on
// each box with `ptui keys create`, is one budget, so a race over both boxes spends at most the
// limit plus the reservations in flight (and whatever was decided without Redis, counted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { makeSimHome, readUsageRows, startGateway, type GatewayChild } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { hasTool, TOOLS } from '../helpers/tools.js';
import { keysCli } from '../keys/helpers.js';

// 50 completion tokens at $1000 per 1M: $0.05 a request, estimated and billed alike
const PRICING = { input_usd_per_1m: 0, output_usd_per_1m: 1000 };
const PER_REQUEST = 0.05;

describe.skipIf(!hasTool(TOOLS.redis))('a key budget across two gateways', () => {
  let redis: RedisServer;
  let sim: SimUpstream;
  const homes: TempHome[] = [];
  const gws: GatewayChild[] = [];
  const keys: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimUpstream({ latencyMs: 100 });
    for (const id of ['box-a', 'box-b']) {
      const h = makeSimHome(sim.url, {
        models: { chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: PRICING }] } },
        gateway: { shared: { redis_url: redis.url, gateway_id: id } },
      });
      homes.push(h);
      keys.push(keysCli(h.home, 'create', '--alias', 'team', '--budget-usd', '1', '--budget-window', '1d', '--budget-action', 'block'));
    }
    gws.push(...(await Promise.all(homes.map((h) => startGateway({ home: h.home })))));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    for (const h of homes) h.cleanup();
    await sim?.close();
    await redis?.stop();
  });

  const metric = async (gw: GatewayChild) => {
    const m = /^backend_llm_shared_unavailable_total\{action="local"\} (\d+)/m.exec(await (await fetch(`${gw.url}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };

  it('40 concurrent requests with the same alias on two boxes spend at most $1 plus one reservation', async () => {
    const before = (await metric(gws[0])) + (await metric(gws[1]));
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await fetch(`${gws[i % 2].url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[i % 2]}` },
          body: JSON.stringify({ model: 'chat', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
        });
        await r.arrayBuffer();
        return r.status;
      }),
    );
    const local = (await metric(gws[0])) + (await metric(gws[1])) - before;
    const admitted = statuses.filter((s) => s === 200).length;
    await Promise.all(gws.map((g) => g.stop()));
    const perBox = homes.map((h) => readUsageRows(h.runtimeDir).reduce((s, r) => s + (r.key_alias === 'team' && r.cost_usd > 0 ? r.cost_usd : 0), 0));
    const total = perBox[0] + perBox[1];
    console.log(`shared key budget race: ${admitted} admitted of 40, ${local} decided without Redis; spend $${perBox[0].toFixed(2)} + $${perBox[1].toFixed(2)} = $${total.toFixed(4)} against $1`);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(total).toBeLessThanOrEqual(1 + PER_REQUEST * (1 + local) + 1e-9);
    // each box alone would have let $1 through: together they stop at about $1
    if (local === 0) expect(admitted).toBeLessThanOrEqual(21);
  });
});
