// Virtual keys through the real gateway, managed by real `ptui keys` processes, used by the
// official openai SDK: create -> use -> spend per key -> revoke -> 401, and every bad input the
// key contract names (wrong shape, query string, expiry, model list, keys.db trouble).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { TempHome } from '../helpers/config.js';
import { readUsageRows, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { chat, keysCli, keysList, keySuite } from './helpers.js';

const suite = keySuite();
const home = (o?: Parameters<typeof suite.home>[0]) => suite.home(o);
const gateway = (h: TempHome) => suite.gateway(h);

const sdk = (gw: GatewayChild, apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const ask = (c: OpenAI, model = 'chat') => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'one two three' }], max_tokens: 8 });

async function budgets(gw: GatewayChild): Promise<any[]> {
  return (await (await fetch(`${gw.url}/budgets`)).json()).budgets;
}

describe('virtual keys through the gateway', () => {
  it('create -> use with the SDK -> spend per key in the log, list, metrics and /budgets -> revoke -> 401', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'team-a', '--budget-usd', '5', '--budget-window', '1d');
    const gw = await gateway(h);

    // keys exist, no master key: a request without a key is refused
    const none = await chat(gw.url, null);
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });

    const client = sdk(gw, key);
    const r = await ask(client);
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 });
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'a b' }], stream: true });
    for await (const _ of stream) void _;

    const rows = await waitFor(() => {
      const rs = readUsageRows(h.runtimeDir);
      return rs.length >= 3 && rs;
    }, 'three usage rows');
    expect(rows.map((x) => [x.key_alias, x.http_status])).toEqual([
      [null, 401],
      ['team-a', 200],
      ['team-a', 200],
    ]);
    const spent = rows.reduce((s, x) => s + (x.cost_usd ?? 0), 0);
    expect(spent).toBeCloseTo(0.011 + 0.01, 9);

    const [listed] = keysList(h.home);
    expect(listed.alias).toBe('team-a');
    expect(listed.spend_usd['1d']).toBeCloseTo(spent, 9);
    expect(listed.budget.spend_usd).toBeCloseTo(spent, 9);
    expect(Date.now() - Date.parse(listed.last_used)).toBeLessThan(60_000);

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^backend_llm_key_spend_usd_total\\{key="team-a"\\} ${spent}`, 'm'));
    expect(metrics).toMatch(/^backend_llm_budget_limit_usd\{scope="key",target="team-a"\} 5$/m);
    const b = (await budgets(gw)).find((x) => x.scope === 'key');
    expect(b).toMatchObject({ scope: 'key', target: 'team-a', max_budget_usd: 5, budget_window: '1d', action: 'warn' });
    expect(b.spend_usd).toBeCloseTo(spent, 9);

    keysCli(h.home, 'revoke', 'team-a');
    const revokedAt = Date.now();
    await waitFor(async () => (await chat(gw.url, `Bearer ${key}`)).status === 401, 'the revoked key to be refused', 1000);
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    const err = await ask(client).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
    // no key left, yet still closed: revoking the last key must not open the gateway to everyone
    expect((await chat(gw.url, null)).status).toBe(401);
  });

  it('a key created or rotated while the gateway runs works within a second; the rotated one stops', async () => {
    const h = home({ gateway: { master_key: 'master-secret-1' } });
    const gw = await gateway(h);
    const key = keysCli(h.home, 'create', '--alias', 'app');
    await waitFor(async () => (await chat(gw.url, `Bearer ${key}`)).status === 200, 'the new key to work', 1500);
    const next = keysCli(h.home, 'rotate', 'app');
    await waitFor(async () => (await chat(gw.url, `Bearer ${next}`)).status === 200, 'the rotated key to work', 1500);
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(401);
    // the master key still works, with or without keys, scheme in any case
    expect((await chat(gw.url, 'bearer master-secret-1')).status).toBe(200);
    expect((await chat(gw.url, 'BEARER master-secret-1')).status).toBe(200);
  });

  it('refuses a wrong-shape bearer, an unknown key, a key in the query string (never logged), and an expired key', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'short', '--expires', '1h');
    const gw = await gateway(h);
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(200);
    for (const auth of ['Bearer nope', `Bearer ${key}x`, `Bearer ${key.slice(0, -1)}`, `Basic ${key}`, key, 'Bearer', `Bearer ptk_${'A'.repeat(40)}`]) {
      const r = await chat(gw.url, auth);
      expect(r.status, auth).toBe(401);
      expect(r.json.error.code).toBe('invalid_api_key');
    }
    for (const q of [`?api_key=${key}`, `?key=${key}`, `?x=1&token=abc`, `?k=${encodeURIComponent(key)}`]) {
      const r = await chat(gw.url, `Bearer ${key}`, {}, `/v1/chat/completions${q}`);
      expect(r.status, q).toBe(401);
      expect(r.json.error.message).toMatch(/not accepted in the URL/);
      expect(r.text).not.toContain(key);
    }
    // an hour passes: the expiry moves into the past (no clock to wait for on a busy machine)
    const db = new Database(path.join(h.runtimeDir, 'keys.db'));
    db.prepare('UPDATE keys SET expires_at = ? WHERE alias = ?').run(new Date(Date.now() - 1000).toISOString(), 'short');
    db.close();
    const expired = await waitFor(async () => {
      const r = await chat(gw.url, `Bearer ${key}`);
      return r.status === 401 && r;
    }, 'the expired key to be refused', 3000);
    expect(expired.json.error.message).toMatch(/API key expired at/);
    await gw.stop();
    expect(gw.stderr()).not.toContain(key);
    expect(gw.stderr()).not.toContain(key.slice(4));
    const rows = readUsageRows(h.runtimeDir);
    expect(JSON.stringify(rows)).not.toContain(key.slice(4));
    expect(rows.filter((x) => x.http_status === 401)).toHaveLength(12);
  });

  it('a model outside the key list is 403 model_not_allowed; /v1/models lists the allowed ones', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'narrow', '--models', 'chat');
    const gw = await gateway(h);
    const client = sdk(gw, key);
    expect((await ask(client)).choices).toHaveLength(1);
    const err = await ask(client, 'other').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err.code).toBe('model_not_allowed');
    // unknown models too: a key does not learn which models exist beyond its own
    const unknown = await ask(client, 'secret-model').catch((e) => e);
    expect(unknown.status).toBe(403);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['chat']);
    expect((await client.models.retrieve('chat')).id).toBe('chat');
    expect((await client.models.retrieve('other').catch((e) => e)).status).toBe(403);
  });

  it('keys.db missing, locked or of a newer schema: a clear message, and the keys loaded last stay in force', async () => {
    const h = home();
    const key = keysCli(h.home, 'create', '--alias', 'keep');
    const gw = await gateway(h);
    const file = path.join(h.runtimeDir, 'keys.db');
    const health = async () => (await (await fetch(`${gw.url}/health`)).json()) as Record<string, any>;
    expect((await health()).status).toBe('ok');

    // locked: another process holds an exclusive lock
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    // a change the gateway cannot see yet, made by the lock holder
    locker.prepare("UPDATE keys SET revoked_at = '2026-01-01T00:00:00.000Z'").run();
    const locked = await waitFor(async () => {
      const x = await health();
      return x.keys_error && x;
    }, '/health to report the lock');
    expect(locked.status).toBe('degraded');
    expect(locked.keys_error).toMatch(/keys\.db is locked by another process; keeping the 1 key\(s\) loaded last/);
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(200);
    locker.exec('ROLLBACK');
    locker.close();
    await waitFor(async () => (await health()).status === 'ok', '/health to recover');

    // missing
    fs.renameSync(file, `${file}.aside`);
    await waitFor(async () => /does not exist/.test((await health()).keys_error ?? ''), '/health to report the missing file');
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(200);
    expect((await chat(gw.url, null)).status).toBe(401);

    // newer schema
    const newer = new Database(file);
    newer.pragma('user_version = 7');
    newer.close();
    await waitFor(async () => /schema version 7, newer than this ptui supports/.test((await health()).keys_error ?? ''), '/health to report the schema');
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(200);

    // the real file back: recovered, same key
    fs.rmSync(file);
    fs.renameSync(`${file}.aside`, file);
    await waitFor(async () => (await health()).status === 'ok', '/health to recover');
    expect((await chat(gw.url, `Bearer ${key}`)).status).toBe(200);
    expect(gw.logLines().filter((l) => l.event === 'keys_unavailable').map((l) => l.reason)).toEqual(['locked', 'missing', 'schema_too_new']);
  });

  it('keys.db holds no key in any form but its SHA-256', async () => {
    const h = home();
    const made = [keysCli(h.home, 'create', '--alias', 'a', '--rpm', '5'), keysCli(h.home, 'create', '--alias', 'b')];
    made.push(keysCli(h.home, 'rotate', 'a'));
    const bytes = Buffer.concat(
      fs
        .readdirSync(h.runtimeDir)
        .filter((f) => f.startsWith('keys.db'))
        .map((f) => fs.readFileSync(path.join(h.runtimeDir, f))),
    );
    const text = bytes.toString('latin1');
    for (const k of made) {
      const body = k.slice(4);
      for (const form of [k, body, body.toLowerCase(), Buffer.from(k).toString('base64'), Buffer.from(k).toString('hex'), Buffer.from(body).toString('base64')]) {
        expect(text.includes(form), form).toBe(false);
      }
    }
  });
});
