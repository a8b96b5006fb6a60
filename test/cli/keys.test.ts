// `ptui keys` as users run it: real processes on a real keys.db.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashKey, KEY_RE } from '../../src/keys/key.js';
import { makeHome, type TempHome } from '../helpers/config.js';
import { runPtui } from './run-ptui.js';

const homes: TempHome[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});

function home(): TempHome {
  const h = makeHome();
  homes.push(h);
  return h;
}

const keys = (h: TempHome, ...args: string[]) => runPtui(['--home', h.home, 'keys', ...args]);

function listJson(h: TempHome): any[] {
  const r = keys(h, 'list', '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).keys;
}

describe('ptui keys', () => {
  it('create prints the key once on stdout, list shows its limits, rotate and revoke complete the set', () => {
    const h = home();
    const c = keys(h, 'create', '--alias', 'team-a', '--budget-usd', '2.5', '--budget-window', '1d', '--budget-action', 'block', '--rpm', '10', '--tpm', '5000', '--models', 'gpt-4,code', '--expires', '30d');
    expect(c.status, c.stderr).toBe(0);
    expect(c.lines).toHaveLength(1);
    const key = c.lines[0]!;
    expect(key).toMatch(KEY_RE);
    expect(c.stderr).toMatch(/only time the key is shown/);
    expect(c.stderr).not.toContain(key);

    const [k] = listJson(h);
    expect(k).toMatchObject({
      alias: 'team-a',
      status: 'active',
      rpm: 10,
      tpm: 5000,
      models: ['gpt-4', 'code'],
      last_used: null,
      budget: { max_budget_usd: 2.5, budget_window: '1d', action: 'block', spend_usd: 0, remaining_usd: 2.5 },
      spend_usd: { '1h': 0, '1d': 0, '30d': 0 },
    });
    const days = (Date.parse(k.expires) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const text = keys(h, 'list');
    expect(text.stdout).toMatch(/team-a\s+active\s+\$0\.0000 of \$2\.5 per 1d \(block\)\s+10\s+5000\s+gpt-4,code/);
    expect(text.stdout).not.toContain(key);

    const r = keys(h, 'rotate', 'team-a');
    expect(r.status, r.stderr).toBe(0);
    const rotated = r.lines[0]!;
    expect(rotated).toMatch(KEY_RE);
    expect(rotated).not.toBe(key);
    const [after] = listJson(h);
    expect(after).toMatchObject({ alias: 'team-a', rpm: 10, tpm: 5000, models: ['gpt-4', 'code'], expires: k.expires });

    const db = new Database(path.join(h.runtimeDir, 'keys.db'), { readonly: true });
    const rows = db.prepare('SELECT alias, key_hash, revoked_at FROM keys ORDER BY id').all() as any[];
    db.close();
    expect(rows.map((x) => [x.key_hash, x.revoked_at !== null])).toEqual([
      [hashKey(key), true],
      [hashKey(rotated), false],
    ]);

    expect(keys(h, 'revoke', 'team-a').status).toBe(0);
    expect(listJson(h)).toEqual([]);
    const again = keys(h, 'revoke', 'team-a');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already revoked/);
    // a revoked alias may be used again
    expect(keys(h, 'create', '--alias', 'team-a').status).toBe(0);
  });

  it('a second create with the same alias fails and leaves the first key alone', () => {
    const h = home();
    expect(keys(h, 'create', '--alias', 'app', '--rpm', '5').status).toBe(0);
    const second = keys(h, 'create', '--alias', 'app', '--rpm', '50');
    expect(second.status).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/ptui keys create: a key with alias "app" already exists/);
    expect(listJson(h).map((k) => [k.alias, k.rpm])).toEqual([['app', 5]]);
  });

  it.each([
    [['--rpm', '0'], /--rpm <n>' argument '0' is invalid/],
    [['--rpm', '-5'], /--rpm <n>' argument '-5' is invalid/],
    [['--rpm', '2.5'], /--rpm <n>' argument '2.5' is invalid/],
    [['--tpm', '0'], /--tpm <n>' argument '0' is invalid/],
    [['--rpm', '1e12'], /--rpm: must be at most/],
    [['--budget-usd', '0', '--budget-window', '1d'], /--budget-usd <usd>' argument '0' is invalid/],
    [['--budget-usd', '1e309', '--budget-window', '1d'], /--budget-usd <usd>' argument '1e309' is invalid/],
    [['--budget-usd', '5'], /needs both --budget-usd and --budget-window/],
    [['--budget-window', '1d'], /needs both --budget-usd and --budget-window/],
    [['--budget-usd', '5', '--budget-window', '0d'], /--budget-window <window>' argument '0d' is invalid/],
    [['--budget-usd', '5', '--budget-window', '1d', '--budget-action', 'stop'], /Allowed choices are warn, block/],
    [['--expires', '2020-01-01'], /is in the past/],
    [['--expires', 'tomorrow'], /must be a duration from now/],
    [['--models', 'gpt-4,,code'], /none empty/],
  ])('refuses %j with exit 2 and a clear message, storing nothing', (args, message) => {
    const h = home();
    const r = keys(h, 'create', '--alias', 'x', ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    // refused before the store is even opened
    expect(fs.existsSync(path.join(h.runtimeDir, 'keys.db'))).toBe(false);
  });

  it('refuses an alias of the wrong shape and a model the config does not have', () => {
    const h = home();
    const bad = keys(h, 'create', '--alias', 'team a\u001b[31m');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--alias <name>' argument/);
    const model = keys(h, 'create', '--alias', 'x', '--models', 'gpt-4,gtp4');
    expect(model.status).toBe(2);
    expect(model.stderr).toMatch(/unknown model "gtp4" .*known: gpt-4/);
    expect(listJson(h)).toEqual([]);
  });

  it('a keys.db of a newer schema is refused with a clear message and left as it is', () => {
    const h = home();
    fs.mkdirSync(h.runtimeDir, { recursive: true });
    const file = path.join(h.runtimeDir, 'keys.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const before = fs.readFileSync(file);
    const r = keys(h, 'create', '--alias', 'x');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/keys\.db has schema version 99, newer than this ptui supports \(1\)/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(keys(h, 'list').status).toBe(1);
  });

  it('keys.db is readable by its owner only', () => {
    const h = home();
    expect(keys(h, 'create', '--alias', 'x').status).toBe(0);
    expect(fs.statSync(path.join(h.runtimeDir, 'keys.db')).mode & 0o777).toBe(0o600);
  });
});
