import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostMonitor } from '../../src/system/host.js';
import type { HostState } from '../../src/system/types.js';
import { tempDir, waitFor } from './fakes.js';

const monitors: HostMonitor[] = [];
afterEach(() => monitors.splice(0).forEach((m) => m.stop()));

describe('HostMonitor', () => {
  it('reports sane CPU, memory, disk and load figures', async () => {
    const runtime = tempDir('host');
    const m = new HostMonitor({ diskPath: runtime, refreshMs: 200 });
    monitors.push(m);
    const first = await m.refresh();
    // the first CPU figure would cover the time since boot, so it is withheld
    expect(first.cpuPct).toBeNull();
    // burn a little CPU so the interval has ticks in it
    const until = Date.now() + 150;
    while (Date.now() < until);
    const s = await m.refresh();
    expect(s.cpuPct).not.toBeNull();
    expect(s.cpuPct!).toBeGreaterThan(0);
    expect(s.cpuPct!).toBeLessThanOrEqual(100);
    expect(s.cores).toBe(os.cpus().length);
    expect(s.memTotalBytes).toBe(os.totalmem());
    expect(s.memUsedBytes!).toBeGreaterThan(0);
    expect(s.memUsedBytes!).toBeLessThan(s.memTotalBytes!);
    const st = fs.statfsSync(runtime);
    expect(s.diskTotalBytes).toBe(st.blocks * st.bsize);
    expect(s.diskUsedBytes!).toBeGreaterThan(0);
    expect(s.diskUsedBytes!).toBeLessThanOrEqual(s.diskTotalBytes!);
    expect(runtime.startsWith(s.diskPath === '/' ? '/' : s.diskPath + '/')).toBe(true);
    expect([s.load1, s.load5, s.load15]).toEqual(os.loadavg().map((l) => expect.closeTo(l, 0)));
    expect(s.updatedAt).not.toBeNull();
  });

  it('measures the nearest existing ancestor when the runtime dir does not exist yet', async () => {
    const base = tempDir('host');
    const m = new HostMonitor({ diskPath: path.join(base, 'not', 'yet', 'runtime') });
    monitors.push(m);
    const s = await m.refresh();
    expect(s.diskTotalBytes).toBe(fs.statfsSync(base).blocks * fs.statfsSync(base).bsize);
  });

  it('emits updates once started and stops emitting after stop()', async () => {
    const m = new HostMonitor({ diskPath: tempDir('host'), refreshMs: 200 });
    monitors.push(m);
    const seen: HostState[] = [];
    m.subscribe((s) => seen.push(s));
    m.start();
    await waitFor(() => seen.length >= 2, 'two updates');
    m.stop();
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.length).toBe(n);
  });
});
