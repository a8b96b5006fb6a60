// Shared mode configured badly, each with the real gateway: an unreachable Redis at start (it
// starts, degraded, and says so), a wrong password and a gateway_id already held (both refuse to
// start with a message that names the problem and never the password), and the URL forms
// gateway.yaml accepts or refuses (rediss:// with TLS files, no ?options, no http://).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, formatProblem } from '../../src/config/load.js';
import type { TempHome } from '../helpers/config.js';
import { freePort, makeSimHome, runGatewayToExit, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { hasTool, TOOLS } from '../helpers/tools.js';

const budgeted = { chat: { capability: 'chat', budget: { max_budget_usd: 5, budget_window: '1d', action: 'block' }, targets: [{ provider: 'sim', model: 'sim-model' }] } };

function configErrors(shared: Record<string, unknown>): string[] {
  const home = makeSimHome('http://127.0.0.1:9', { models: budgeted, gateway: { shared } });
  try {
    return loadConfig({ home: home.home, env: {} }).problems.filter((p) => p.severity === 'error').map(formatProblem);
  } finally {
    home.cleanup();
  }
}

describe('gateway.yaml shared:', () => {
  it('accepts redis:// and rediss:// with TLS files, and defaults on_unavailable to local', () => {
    expect(configErrors({ redis_url: 'redis://:pw@10.0.0.5:6380/2', gateway_id: 'box-a' })).toEqual([]);
    expect(configErrors({ redis_url: 'rediss://redis.internal:6380', tls: { ca_file: 'ca.pem', servername: 'redis.internal' } })).toEqual([]);
    const home = makeSimHome('http://127.0.0.1:9', { models: budgeted, gateway: { shared: { redis_url: 'redis://h' } } });
    expect(loadConfig({ home: home.home, env: {} }).config?.gateway.shared?.on_unavailable).toBe('local');
    home.cleanup();
  });

  it('warns about a password written literally in redis_url, never quoting it', () => {
    const home = makeSimHome('http://127.0.0.1:9', { models: budgeted, gateway: { shared: { redis_url: 'redis://:hunter2-literal@10.0.0.5:6379' } } });
    const problems = loadConfig({ home: home.home, env: {} }).problems.map(formatProblem);
    home.cleanup();
    expect(problems).toContainEqual(expect.stringMatching(/gateway\.yaml: shared\.redis_url: warning: secret written literally/));
    expect(problems.join('\n')).not.toContain('hunter2-literal');
    // without a password, or from ${VAR}, nothing to say
    expect(configErrors({ redis_url: 'redis://10.0.0.5:6379' })).toEqual([]);
  });

  it('refuses other schemes, ?options, tls without rediss://, a bad gateway_id and unknown keys, naming the key', () => {
    expect(configErrors({ redis_url: 'http://h:6379' })).toEqual([expect.stringMatching(/gateway\.yaml: shared\.redis_url: must be redis:\/\//)]);
    expect(configErrors({ redis_url: 'redis://h:6379?enableOfflineQueue=true' })[0]).toMatch(/shared\.redis_url: .*no \?options/);
    expect(configErrors({ redis_url: 'redis://h', tls: { ca_file: 'ca.pem' } })[0]).toMatch(/shared\.tls: tls needs a rediss:\/\/ redis_url/);
    expect(configErrors({ redis_url: 'redis://h', gateway_id: 'box a/../x' })[0]).toMatch(/shared\.gateway_id: must be 1-64 letters/);
    expect(configErrors({ redis_url: 'redis://h', on_unavailable: 'ignore' })[0]).toMatch(/shared\.on_unavailable/);
    expect(configErrors({ redis_url: 'redis://h', ttl: 5 })[0]).toMatch(/shared/);
  });
});

describe.skipIf(!hasTool(TOOLS.redis))('shared mode, bad Redis settings, real gateway', () => {
  let redis: RedisServer;
  const homes: TempHome[] = [];
  const gws: GatewayChild[] = [];
  const home = (shared: Record<string, unknown>) => {
    const h = makeSimHome('http://127.0.0.1:9', { models: budgeted, gateway: { shared } });
    homes.push(h);
    return h;
  };

  beforeAll(async () => {
    redis = await startRedis({ password: 'sesame-7f3a' });
  });
  afterAll(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    for (const h of homes) h.cleanup();
    await redis?.stop();
  });

  it('an unreachable Redis at start: the gateway starts, degraded, and says why', async () => {
    const port = await freePort();
    const gw = await startGateway({ home: home({ redis_url: `redis://127.0.0.1:${port}`, gateway_id: 'lonely' }).home });
    gws.push(gw);
    const health = await (await fetch(`${gw.url}/health`)).json();
    expect(health).toMatchObject({ status: 'degraded', shared: { state: 'down', gateway_id: 'lonely', reason: expect.stringMatching(/refused the connection|does not answer/) } });
    expect(gw.logLines().find((l) => l.event === 'shared_unavailable')).toMatchObject({ on_unavailable: 'local', note: expect.stringMatching(/starting degraded/) });
  });

  it('a wrong password: exit 1 naming the credentials problem, never the password', async () => {
    const url = redis.url.replace('sesame-7f3a', 'wrong-9c1d');
    const r = await runGatewayToExit({ home: home({ redis_url: url, gateway_id: 'box-p' }).home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ptui gateway: shared\.redis_url: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the credentials \((WRONGPASS|ERR)/);
    expect(r.stderr).not.toContain('wrong-9c1d');
  });

  it('two gateways with one gateway_id: the second exits 1 naming the first', async () => {
    const first = await startGateway({ home: home({ redis_url: redis.url, gateway_id: 'twin' }).home });
    gws.push(first);
    // the heartbeat carries the first one's port once it listens
    await waitFor(async () => (await redis.client().get('ptui:gw:twin'))?.includes(`"port":${first.port}`), 'first heartbeat with its port', 10_000);
    const r = await runGatewayToExit({ home: home({ redis_url: redis.url, gateway_id: 'twin' }).home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`gateway_id "twin" is already held by the gateway on host \\S+ \\(pid ${first.child.pid}, port ${first.port}\\)`));
  });
});
