import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpuMonitor, NVIDIA_DRIVER_NOT_LOADED, NVIDIA_SMI_NOT_FOUND } from '../../src/system/gpu.js';
import type { GpuState } from '../../src/system/types.js';
import { childrenMatching, fakeEnv, readLog, tempDir, waitFor } from './fakes.js';

const monitors: GpuMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

function monitor(env: Record<string, string>, opts: Partial<ConstructorParameters<typeof GpuMonitor>[0]> = {}) {
  const m = new GpuMonitor({ refreshMs: 150, initialBackoffMs: 100, env: fakeEnv(env), ...opts });
  monitors.push(m);
  return m;
}

describe('GpuMonitor against the fake nvidia-smi', () => {
  it('reports both GPUs keyed by UUID, N/A power as null, history growing, and one -lms child', async () => {
    const dir = tempDir('gpu');
    const log = path.join(dir, 'calls.log');
    const m = monitor({ FAKE_NVIDIA_SMI_LOG: log });
    const updates: GpuState[] = [];
    m.subscribe((s) => updates.push(s));
    m.start();
    const s = await waitFor(() => {
      const snap = m.getSnapshot();
      return snap.gpus.length === 2 && snap.gpus[0].utilHistory.length >= 4 ? snap : null;
    }, 'two GPUs with history');
    expect(s.available).toBe(true);
    expect(s.notice).toBeNull();
    expect(s.gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(s.gpus[0].uuid).toMatch(/^GPU-/);
    expect(s.gpus[0].uuid).not.toBe(s.gpus[1].uuid);
    expect(s.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', memTotalMiB: 81559, powerLimitW: 700 });
    expect(s.gpus[0].powerW).toBeGreaterThan(0);
    expect(s.gpus[1].powerW).toBeNull();
    expect(new Set(s.gpus[0].utilHistory).size).toBeGreaterThan(1);
    expect(updates.length).toBeGreaterThan(0);

    const streams = readLog(log).filter((c) => c.argv.includes('-lms'));
    expect(streams).toHaveLength(1);
    expect(streams[0].argv).toEqual([
      '--query-gpu=uuid,index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit',
      '--format=csv,noheader,nounits',
      '-lms',
      '150',
    ]);
    expect(childrenMatching(process.pid, ['-lms'])).toEqual([m.streamPid]);
    // compute-apps runs on the tick as short separate processes
    await waitFor(() => readLog(log).some((c) => c.argv[0].startsWith('--query-compute-apps=')), 'a compute-apps query');

    m.stop();
    await waitFor(() => childrenMatching(process.pid, ['-lms']).length === 0, 'the -lms child to be killed');
  });

  it('caps the history at historyLength', async () => {
    const m = monitor({}, { historyLength: 3, refreshMs: 100 });
    m.start();
    await waitFor(() => (m.getSnapshot().gpus[0]?.utilHistory.length ?? 0) >= 3, 'history');
    await new Promise((r) => setTimeout(r, 300));
    expect(m.getSnapshot().gpus[0].utilHistory.length).toBe(3);
  });

  it('lists compute apps from --query-compute-apps', async () => {
    const dir = tempDir('gpu');
    const apps = path.join(dir, 'apps.json');
    fs.writeFileSync(apps, JSON.stringify([{ gpu: 1, pid: 4242, name: 'python3', usedMiB: 40000 }]));
    const m = monitor({ FAKE_NVIDIA_SMI_APPS: apps });
    m.start();
    const s = await waitFor(() => (m.getSnapshot().processes.length ? m.getSnapshot() : null), 'a compute app');
    expect(s.processes).toEqual([{ gpuUuid: s.gpus[1].uuid, pid: 4242, name: 'python3', usedMemMiB: 40000 }]);
  });

  it('lists compute apps as soon as the stream answers, then at its own rhythm, and at once when asked', async () => {
    const dir = tempDir('gpu');
    const log = path.join(dir, 'calls.log');
    const apps = path.join(dir, 'apps.json');
    fs.writeFileSync(apps, JSON.stringify([{ gpu: 0, pid: 4242, name: 'python3', usedMiB: 1000 }]));
    const m = monitor({ FAKE_NVIDIA_SMI_APPS: apps, FAKE_NVIDIA_SMI_LOG: log }, { appsIntervalMs: 600_000 });
    m.start();
    await waitFor(() => m.getSnapshot().processes.length === 1, 'the first compute-apps answer');
    const queries = () => readLog(log).filter((c) => c.argv[0].startsWith('--query-compute-apps=')).length;
    // the stream keeps sampling (many refreshes) without another apps query until one is due
    await waitFor(() => (m.getSnapshot().gpus[0]?.utilHistory.length ?? 0) >= 6, 'more samples');
    expect(queries()).toBe(1);
    fs.writeFileSync(apps, JSON.stringify([]));
    m.refreshApps();
    await waitFor(() => m.getSnapshot().processes.length === 0, 'the asked-for answer');
    expect(queries()).toBe(2);
  });

  it('never runs two compute-apps queries at once, even when one takes longer than a tick', async () => {
    const m = monitor({ FAKE_NVIDIA_SMI_APPS_DELAY_MS: '500' }, { refreshMs: 100 });
    m.start();
    let maxSeen = 0;
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      maxSeen = Math.max(maxSeen, childrenMatching(process.pid, ['--query-compute-apps=gpu_uuid,pid,process_name,used_memory']).length);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(maxSeen).toBe(1);
  });

  it('tolerates Xid lines mid-stream and lines split across writes', async () => {
    const xid = monitor({ FAKE_NVIDIA_SMI_MODE: 'xid' });
    const chunked = monitor({ FAKE_NVIDIA_SMI_MODE: 'chunked' });
    xid.start();
    chunked.start();
    await waitFor(() => (xid.getSnapshot().gpus[0]?.utilHistory.length ?? 0) >= 5, 'xid stream samples');
    await waitFor(() => (chunked.getSnapshot().gpus[1]?.utilHistory.length ?? 0) >= 3, 'chunked stream samples');
    for (const m of [xid, chunked]) {
      const s = m.getSnapshot();
      expect(s.available).toBe(true);
      expect(s.gpus).toHaveLength(2);
      expect(s.gpus.every((g) => g.uuid.startsWith('GPU-') && g.memTotalMiB === 81559)).toBe(true);
      expect(m.spawnCount).toBe(1);
    }
  });

  it('shows N/A and Not Supported fields as null', async () => {
    const m = monitor({ FAKE_NVIDIA_SMI_MODE: 'na' });
    m.start();
    const s = await waitFor(() => (m.getSnapshot().gpus.length === 2 ? m.getSnapshot() : null), 'gpus');
    expect(s.gpus[1]).toMatchObject({ utilPct: null, tempC: null, powerW: null, powerLimitW: null, memTotalMiB: 81559 });
    expect(s.gpus[0].utilPct).not.toBeNull();
  });

  it('restarts the stats child after it dies, with a notice meanwhile', async () => {
    const dir = tempDir('gpu');
    const log = path.join(dir, 'calls.log');
    const m = monitor({ FAKE_NVIDIA_SMI_MODE: 'die-after:2', FAKE_NVIDIA_SMI_LOG: log });
    const notices: string[] = [];
    m.subscribe((s) => s.notice && notices.push(s.notice));
    m.start();
    await waitFor(() => readLog(log).filter((c) => c.argv.includes('-lms')).length >= 2, 'a second -lms child');
    await waitFor(() => m.getSnapshot().gpus.length === 2, 'GPUs back after restart');
    expect(notices[0]).toBe(
      'nvidia-smi failed (exit 15): Unable to determine the device handle for GPU0000:1B:00.0: GPU is lost.  Reboot the system to recover this GPU',
    );
    expect(m.spawnCount).toBeGreaterThanOrEqual(2);
    // never more than one stats child alive at once
    expect(childrenMatching(process.pid, ['-lms']).length).toBeLessThanOrEqual(1);
  });

  it('treats a silent stream (hung driver) as dead: notice, numbers cleared, child replaced', async () => {
    const dir = tempDir('gpu');
    const log = path.join(dir, 'calls.log');
    const m = monitor({ FAKE_NVIDIA_SMI_MODE: 'hang-after:1', FAKE_NVIDIA_SMI_LOG: log }, { refreshMs: 100 });
    const notices: string[] = [];
    m.subscribe((s) => s.notice && notices.push(s.notice));
    m.start();
    await waitFor(() => m.getSnapshot().gpus.length === 2, 'first samples');
    const firstPid = m.streamPid;
    await waitFor(() => notices.length > 0, 'a stall notice', 15_000);
    expect(notices[0]).toMatch(/^nvidia-smi stopped answering \(no sample for \d+ s\)$/);
    await waitFor(() => readLog(log).filter((c) => c.argv.includes('-lms')).length >= 2, 'a new -lms child', 15_000);
    await waitFor(() => childrenMatching(process.pid, ['-lms']).length === 1, 'the hung child gone');
    expect(childrenMatching(process.pid, ['-lms'])).not.toContain(firstPid);
  });

  it('says "driver not loaded" on exit 9', async () => {
    const m = monitor({ FAKE_NVIDIA_SMI_MODE: 'exit9' });
    m.start();
    const s = await waitFor(() => (m.getSnapshot().notice ? m.getSnapshot() : null), 'a notice');
    expect(s).toMatchObject({ available: false, notice: NVIDIA_DRIVER_NOT_LOADED, gpus: [], processes: [] });
  });

  it('shows other exit codes with the first stderr line', async () => {
    const m = monitor({ FAKE_NVIDIA_SMI_MODE: 'exit:12' });
    m.start();
    const s = await waitFor(() => (m.getSnapshot().notice ? m.getSnapshot() : null), 'a notice');
    expect(s.available).toBe(false);
    expect(s.notice).toBe('nvidia-smi failed (exit 12): Failed to initialize NVML: Unknown Error');
  });

  it('says nvidia-smi not found when it is absent', async () => {
    const m = new GpuMonitor({ refreshMs: 150, env: { ...process.env, PATH: tempDir('empty-path') } });
    monitors.push(m);
    m.start();
    const s = await waitFor(() => (m.getSnapshot().notice ? m.getSnapshot() : null), 'a notice');
    expect(s).toMatchObject({ available: false, notice: NVIDIA_SMI_NOT_FOUND, gpus: [] });
  });
});
