import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import si from 'systeminformation';
import { HostMonitor, parseMeminfo } from '../../src/system/host.js';
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

  it('reads memory as systeminformation does: the same figures on this box, its fallback without MemAvailable, its own answer without /proc/meminfo', async () => {
    const mem = await si.mem();
    const fromProc = parseMeminfo(fs.readFileSync('/proc/meminfo', 'utf8'))!;
    expect(fromProc.total).toBe(mem.total);
    // the kernel's figure moves between the two reads: within a few MB
    expect(Math.abs(fromProc.available - mem.available)).toBeLessThan(64 << 20);
    const old = 'MemTotal:       16000 kB\nMemFree:         1000 kB\nBuffers:          200 kB\nCached:          3000 kB\nSwapCached:        50 kB\nSlab:             300 kB\n';
    expect(parseMeminfo(old)).toEqual({ total: 16000 * 1024, available: (1000 + 200 + 3000 + 300) * 1024 });
    expect(parseMeminfo('MemTotal:       16000 kB\nMemAvailable:    9000 kB\n')).toEqual({ total: 16000 * 1024, available: 9000 * 1024 });
    expect(parseMeminfo('garbage\n\x1b[31m')).toBeNull();
    const dir = tempDir('host-mem');
    const file = path.join(dir, 'meminfo');
    fs.writeFileSync(file, old);
    const fixed = new HostMonitor({ diskPath: dir, refreshMs: 200, meminfoFile: file });
    monitors.push(fixed);
    expect(await fixed.refresh()).toMatchObject({ memTotalBytes: 16000 * 1024, memUsedBytes: (16000 - 4500) * 1024 });
    const none = new HostMonitor({ diskPath: dir, refreshMs: 200, meminfoFile: path.join(dir, 'absent') });
    monitors.push(none);
    expect((await none.refresh()).memTotalBytes).toBe(mem.total);
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
