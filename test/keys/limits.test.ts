// Rate limits and key budgets through the real gateway under concurrency: a 50-way race against
// --rpm 10, a 50-way race against a $1 block key budget, a key revoked while it is in use, the
// OpenAI rate-limit headers, tpm settled by actual use, model rate_limits that bind the master
// key too, and the SDK's own retry honouring retry-after.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { prefillUsage } from '../policy/helpers.js';
import { chat, chatModels, keysCli, keysCliAsync, keySuite } from './helpers.js';

const suite = keySuite();
const home = (o?: Parameters<typeof suite.home>[0]) => suite.home(o);
const gateway = (h: TempHome) => suite.gateway(h);

const race = (n: number, fn: (i: number) => Promise<{ status: number; headers: Headers; json: any }>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

describe('rate limits', () => {
  it('50 concurrent requests against --rpm 10: exactly 10 admitted, 40 refused with retry-after and OpenAI headers', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'ten', '--rpm', '10');
    const gw = await gateway(h);
    suite.sim.setLatency(200);
    const results = await race(50, (i) => chat(gw.url, `Bearer ${key}`, { stream: i % 2 === 0 }));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.json.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      const retry = Number(r.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      expect(Number(r.headers.get('retry-after-ms'))).toBeLessThan(60_000);
      // worth retrying: the SDK's default decides
      expect(r.headers.get('x-should-retry')).toBeNull();
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('10');
      expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?m?s$/);
    }
    const remaining = ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort((a, b) => a - b);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of ok) expect(r.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(suite.sim.requests.filter((q) => q.path.includes('/chat/completions'))).toHaveLength(10);
    await gw.stop();
    const rows = readUsageRows(h.runtimeDir);
    expect(rows.filter((r) => r.error_type === 'rate_limit_exceeded')).toHaveLength(40);
    expect(rows.filter((r) => r.http_status === 200 && r.key_alias === 'ten')).toHaveLength(10);
    console.log(`rpm race: ${ok.length} admitted, ${refused.length} refused (rpm 10, 50 concurrent)`);
  });

  it('tpm: tokens are reserved by estimate, settled by use, and a request larger than the limit is refused', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'tok', '--tpm', '100');
    const gw = await gateway(h);
    // The estimate counts every string of the body (the same walk the guardrails make) plus
    // max_tokens 8; what it comes to is read off the first answer, then held to by the rest.
    const first = await chat(gw.url, `Bearer ${key}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    const estimate = 100 - Number(first.headers.get('x-ratelimit-remaining-tokens'));
    expect(estimate).toBeGreaterThanOrEqual(12); // at least 'one two three' (4) + max_tokens (8)
    expect(estimate).toBeLessThan(50);
    // settled at 11 used (3 prompt + 8 completion), then one more estimate reserved
    const second = await chat(gw.url, `Bearer ${key}`);
    expect(second.headers.get('x-ratelimit-remaining-tokens')).toBe(String(100 - 11 - estimate));
    const big = await chat(gw.url, `Bearer ${key}`, { max_tokens: 500 });
    expect(big.status).toBe(429);
    expect(big.json.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(big.json.error.message).toContain(`about ${estimate - 8 + 500} tokens, more than the 100 per minute of key "tok"`);
    // fill the minute: each admitted request reserves the estimate and settles at 11, so the
    // requests admitted are exactly those whose reservation still fits under 100
    let used = 22;
    const expected: number[] = [];
    for (let i = 0; i < 8; i++) {
      const fits = used + estimate <= 100;
      expected.push(fits ? 200 : 429);
      if (fits) used += 11;
    }
    expect(expected).toContain(429);
    const more = [];
    for (let i = 0; i < 8; i++) more.push((await chat(gw.url, `Bearer ${key}`)).status);
    expect(more).toEqual(expected);
  });

  it('rate_limits in model-mappings bind every caller, the master key included', async () => {
    const h = home({ models: chatModels({ rate_limits: { rpm: 3 } }), gateway: { master_key: 'the-master-key' } });
    const gw = await gateway(h);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(gw.url, 'Bearer the-master-key')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await chat(gw.url, 'Bearer the-master-key', { model: 'other' });
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it("the SDK's own retry honours retry-after", { timeout: 120_000 }, async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'one', '--rpm', '1');
    const gw = await gateway(h);
    const seen: Array<{ status: number; at: number; retryMs: number }> = [];
    const client = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: key,
      maxRetries: 1,
      fetch: async (url: any, init: any) => {
        const r = await fetch(url, init);
        seen.push({ status: r.status, at: Date.now(), retryMs: Number(r.headers.get('retry-after-ms')) });
        return r;
      },
    });
    const ask = () => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    await ask();
    const second = await ask();
    expect(second.choices).toHaveLength(1);
    expect(seen.map((s) => s.status)).toEqual([200, 429, 200]);
    const waited = seen[2]!.at - seen[1]!.at;
    expect(waited).toBeGreaterThanOrEqual(seen[1]!.retryMs - 50);
    console.log(`SDK retry: told to wait ${seen[1]!.retryMs} ms, retried after ${waited} ms`);
  });
});

describe('key budgets and revocation under load', () => {
  it('50 concurrent requests against a $1 block key budget overshoot by at most the reservations in flight; a restart sees the same spend', async () => {
    const h = home({ gateway: { master_key: 'master-of-all' } });
    const key = keysCli(h.home, 'create', '--alias', 'capped', '--budget-usd', '1', '--budget-window', '1d', '--budget-action', 'block');
    prefillUsage(h.runtimeDir, [{ timestamp: new Date(Date.now() - 60_000).toISOString(), cost_usd: 0.95, key_alias: 'capped' }]);
    const gw = await gateway(h);
    suite.sim.setLatency(300);
    // 4 tokens estimated + 8 max_tokens = $0.012 reserved each; real cost $0.011
    const estimate = 0.012;
    const results = await race(50, (i) => chat(gw.url, `Bearer ${key}`, { stream: i % 2 === 0 }));
    const ok = results.filter((r) => r.status === 200).length;
    const blocked = results.filter((r) => r.status === 429);
    expect(ok + blocked.length).toBe(50);
    expect(ok).toBeGreaterThan(0);
    for (const r of blocked) expect(r.json.error.code).toBe('budget_exceeded');
    // the master key has no key budget: the same model still answers it
    expect((await chat(gw.url, 'Bearer master-of-all')).status).toBe(200);
    await gw.stop();
    const rows = readUsageRows(h.runtimeDir).filter((r) => r.key_alias === 'capped');
    const spend = rows.reduce((s, r) => s + (r.cost_usd > 0 ? r.cost_usd : 0), 0);
    console.log(`key budget race: ${ok} admitted, ${blocked.length} blocked, spend ${spend.toFixed(4)} of 1.0000 (reservation ${estimate} each)`);
    expect(spend).toBeLessThanOrEqual(1 + estimate + 1e-9);
    expect(spend + 0.011).toBeGreaterThan(1 - estimate);

    const again = await gateway(h);
    const b = (await (await fetch(`${again.url}/budgets`, { headers: { authorization: 'Bearer master-of-all' } })).json()).budgets.find((x: any) => x.scope === 'key');
    expect(b.target).toBe('capped');
    expect(b.spend_usd).toBeCloseTo(spend, 9);
    expect(b.exceeded).toBe(spend >= 1);
  });

  it('a key revoked while requests use it: nothing is admitted later than a second after revoke returns', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'doomed');
    const gw = await gateway(h);
    suite.sim.setLatency(20);
    const log: Array<{ sentAt: number; status: number }> = [];
    let stopAt = Infinity;
    const worker = async () => {
      while (Date.now() < stopAt) {
        const sentAt = Date.now();
        const r = await chat(gw.url, `Bearer ${key}`);
        log.push({ sentAt, status: r.status });
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await waitFor(() => log.filter((x) => x.status === 200).length >= 20, 'traffic with the key');
    await keysCliAsync(h.home, 'revoke', 'doomed');
    const revokedAt = Date.now();
    stopAt = revokedAt + 2000;
    await Promise.all(workers);
    const late = log.filter((x) => x.sentAt > revokedAt + 1000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.filter((x) => x.status !== 401)).toEqual([]);
    const firstRefusal = log.find((x) => x.status === 401)!;
    console.log(`revocation: first 401 for a request sent ${firstRefusal.sentAt - revokedAt} ms after revoke returned; ${late.length} later requests all 401`);
  });
});
