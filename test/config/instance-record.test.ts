import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  instanceProof,
  instanceRecordPath,
  isProcessAlive,
  liveInstanceRecord,
  newInstanceChallenge,
  newInstanceSecret,
  readInstanceRecord,
  removeInstanceRecord,
  verifyInstanceProof,
  writeInstanceRecord,
  type InstanceRecord,
} from '../../src/config/instance-record.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-record-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const record = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  pid: process.pid,
  host: '127.0.0.1',
  port: 4000,
  secret: newInstanceSecret(),
  started_at: new Date().toISOString(),
  version: '0.1.0',
  ...over,
});

describe('instance record', () => {
  it('round-trips, owner-only (0600), no temp file left behind', () => {
    const r = record();
    writeInstanceRecord(dir, r);
    expect(readInstanceRecord(dir)).toEqual({ state: 'ok', record: r });
    expect(fs.statSync(instanceRecordPath(dir)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['gateway.json']);
  });

  it('stays 0600 even when an older record was world-readable', () => {
    fs.writeFileSync(instanceRecordPath(dir), '{}', { mode: 0o644 });
    writeInstanceRecord(dir, record());
    expect(fs.statSync(instanceRecordPath(dir)).mode & 0o777).toBe(0o600);
  });

  it('missing, malformed, wrong schema, readable by others, oversized or a symlink: never trusted', () => {
    expect(readInstanceRecord(dir)).toEqual({ state: 'none' });
    const file = instanceRecordPath(dir);
    const cases: Array<[string, () => void, RegExp]> = [
      ['not json', () => fs.writeFileSync(file, 'pid=1', { mode: 0o600 }), /not valid JSON/],
      ['bad schema', () => fs.writeFileSync(file, JSON.stringify({ ...record(), port: 1e309 }), { mode: 0o600 }), /schema/],
      ['short secret', () => fs.writeFileSync(file, JSON.stringify({ ...record(), secret: 'abc' }), { mode: 0o600 }), /schema/],
      ['others can read', () => fs.writeFileSync(file, JSON.stringify(record()), { mode: 0o644 }), /readable by others/],
      ['huge', () => fs.writeFileSync(file, ' '.repeat(100_000), { mode: 0o600 }), /too large/],
    ];
    for (const [, make, reason] of cases) {
      fs.rmSync(file, { force: true });
      make();
      fs.chmodSync(file, fs.statSync(file).mode & 0o777); // writeFileSync's mode only applies on create
      const r = readInstanceRecord(dir);
      expect(r.state).toBe('invalid');
      expect(r.state === 'invalid' && r.reason).toMatch(reason);
    }
    fs.rmSync(file, { force: true });
    const real = path.join(dir, 'elsewhere.json');
    fs.writeFileSync(real, JSON.stringify(record()), { mode: 0o600 });
    fs.symlinkSync(real, file);
    expect(readInstanceRecord(dir).state).toBe('invalid');
  });

  it('liveInstanceRecord: null for a dead pid (a gateway killed with -9 leaves its record behind)', () => {
    writeInstanceRecord(dir, record());
    expect(liveInstanceRecord(dir)?.pid).toBe(process.pid);
    writeInstanceRecord(dir, record({ pid: 2 ** 22 + 12345 }));
    expect(isProcessAlive(2 ** 22 + 12345)).toBe(false);
    expect(liveInstanceRecord(dir)).toBeNull();
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(Number.NaN)).toBe(false);
  });

  it('removeInstanceRecord removes only its own record', () => {
    const mine = record();
    writeInstanceRecord(dir, record());
    removeInstanceRecord(dir, mine.secret);
    expect(readInstanceRecord(dir).state).toBe('ok');
    writeInstanceRecord(dir, mine);
    removeInstanceRecord(dir, mine.secret);
    expect(readInstanceRecord(dir).state).toBe('none');
  });

  it('proof: only the secret answers a challenge; malformed proofs are refused', () => {
    const secret = newInstanceSecret();
    const challenge = newInstanceChallenge();
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{16,128}$/);
    const proof = instanceProof(secret, challenge);
    expect(verifyInstanceProof(secret, challenge, proof)).toBe(true);
    expect(verifyInstanceProof(newInstanceSecret(), challenge, proof)).toBe(false);
    expect(verifyInstanceProof(secret, newInstanceChallenge(), proof)).toBe(false);
    for (const bad of [null, undefined, '', 'zz', proof.toUpperCase() + 'x', proof.slice(2)]) {
      expect(verifyInstanceProof(secret, challenge, bad)).toBe(false);
    }
  });
});
