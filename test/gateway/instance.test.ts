// One gateway per runtime dir: the second exits 1 naming the first's pid and port; the first
// records itself (owner-only) and removes the record on a clean exit; a gateway killed with -9
// leaves no lock behind that would stop the next one.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceRecordPath, readInstanceRecord } from '../../src/config/instance-record.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { makeSimHome, runGatewayToExit, startGateway } from '../helpers/gateway.js';

let sim: SimUpstream;
let home: TempHome;
beforeAll(async () => {
  sim = await startSimUpstream({});
  home = makeSimHome(sim.url);
});
afterAll(async () => {
  await sim.close();
  home.cleanup();
});

describe('one gateway per runtime dir', () => {
  it('records itself, refuses a second one (exit 1, pid and port named), removes the record on SIGTERM', async () => {
    const first = await startGateway({ home: home.home });
    try {
      const r = readInstanceRecord(home.runtimeDir);
      expect(r.state).toBe('ok');
      const rec = r.state === 'ok' ? r.record : null;
      expect(rec).toMatchObject({ pid: first.child.pid, port: first.port, host: '127.0.0.1' });
      expect(rec!.secret).toMatch(/^[0-9a-f]{64}$/);
      expect(Date.parse(rec!.started_at)).toBeGreaterThan(Date.now() - 60_000);
      expect(fs.statSync(instanceRecordPath(home.runtimeDir)).mode & 0o777).toBe(0o600);
      // the secret never goes to the log
      expect(first.stderr()).not.toContain(rec!.secret);

      const second = await runGatewayToExit({ home: home.home });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      expect(second.stderr).toContain(`port ${first.port}`);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      // the first one is untouched: still serving, still recorded
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
      expect(readInstanceRecord(home.runtimeDir)).toEqual(r);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(readInstanceRecord(home.runtimeDir)).toEqual({ state: 'none' });
  });

  it('after kill -9 the next gateway starts (no stale lock) and replaces the stale record', async () => {
    const killed = await startGateway({ home: home.home });
    await killed.stop('SIGKILL');
    const stale = readInstanceRecord(home.runtimeDir);
    expect(stale.state === 'ok' && stale.record.pid).toBe(killed.child.pid);
    const next = await startGateway({ home: home.home });
    try {
      const r = readInstanceRecord(home.runtimeDir);
      expect(r.state === 'ok' && r.record.pid).toBe(next.child.pid);
      expect(r.state === 'ok' && stale.state === 'ok' && r.record.secret !== stale.record.secret).toBe(true);
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });
});
