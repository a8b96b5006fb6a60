// Shared mode configured badly, each with the real gateway: an unreachable Redis at start (it
// starts, degraded, and says so), a wrong password and a gateway_id already held (both refuse to
// start with a message that names the problem and never the password), and the URL forms
// gateway.yaml accepts or refuses (rediss:// with TLS files, no ?options, no http://).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, formatProblem } from '../../src/config/load.js';
import { redisOptions } from '../../src/config/redis-options.js';
import { runPtui } from '../cli/run-ptui.js';
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

  it('turns the URL and the tls block into client options: TLS files read from home, credentials decoded, nothing from a query', () => {
    const home = makeSimHome('http://127.0.0.1:9', { models: budgeted });
    try {
      fs.writeFileSync(path.join(home.home, 'ca.pem'), 'CA-PEM');
      const tls = redisOptions({ redis_url: 'rediss://ops:p%40ss@redis.internal:6380/2', on_unavailable: 'local', tls: { ca_file: 'ca.pem', servername: 'r.example' } }, home.home, 'n');
      expect(tls).toMatchObject({ host: 'redis.internal', port: 6380, db: 2, username: 'ops', password: 'p@ss', enableOfflineQueue: false });
      expect(String(tls.tls?.ca)).toBe('CA-PEM');
      expect(tls.tls?.servername).toBe('r.example');
      // the server name defaults to the URL's host; plain redis:// has no TLS
      expect(redisOptions({ redis_url: 'rediss://redis.internal', on_unavailable: 'local' }, home.home, 'n').tls?.servername).toBe('redis.internal');
      const plain = redisOptions({ redis_url: 'redis://[::1]:7000', on_unavailable: 'local' }, home.home, 'n');
      expect(plain).toMatchObject({ host: '::1', port: 7000, db: 0 });
      expect(plain.tls).toBeUndefined();
    } finally {
      home.cleanup();
    }
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

  it('ptui keys in shared mode against an unreachable Redis or with a wrong password: exit 1 naming the problem, no keys.db written', async () => {
    const port = await freePort();
    const away = home({ redis_url: `redis://127.0.0.1:${port}`, gateway_id: 'k1' });
    const r1 = runPtui(['--home', away.home, 'keys', 'create', '--alias', 'app']);
    expect(r1.status).toBe(1);
    expect(r1.stdout).toBe('');
    expect(r1.stderr).toMatch(/ptui keys create: shared mode keeps the keys in Redis: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the connection/);
    expect(fs.existsSync(path.join(away.runtimeDir, 'keys.db'))).toBe(false);
    const wrong = home({ redis_url: redis.url.replace('sesame-7f3a', 'wrong-9c1d'), gateway_id: 'k2' });
    const r2 = runPtui(['--home', wrong.home, 'keys', 'list']);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/ptui keys list: .*refused the credentials/);
    expect(r2.stderr).not.toContain('wrong-9c1d');
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
