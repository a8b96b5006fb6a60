import { describe, expect, it } from 'vitest';
import {
  LineSplitter,
  computeAppsArgs,
  gpuStreamArgs,
  parseComputeAppLine,
  parseComputeApps,
  parseGpuLine,
  parseNumberField,
} from '../../src/system/nvidia-smi.js';

const H100 = 'GPU-5a1c2f3e-0000-1111-2222-333344445555, 0, NVIDIA H100 80GB HBM3, 87, 71234, 81559, 64, 612.35, 700.00';

describe('nvidia-smi csv parsing', () => {
  it('parses a full --query-gpu row with nounits', () => {
    expect(parseGpuLine(H100)).toEqual({
      uuid: 'GPU-5a1c2f3e-0000-1111-2222-333344445555',
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilPct: 87,
      memUsedMiB: 71234,
      memTotalMiB: 81559,
      tempC: 64,
      powerW: 612.35,
      powerLimitW: 700,
    });
  });

  it('turns [N/A] and [Not Supported] into null, keeps the other fields', () => {
    const r = parseGpuLine('GPU-aa, 1, Tesla T4, [N/A], 300, 15360, [Not Supported], [N/A], [Not Supported]');
    expect(r).toMatchObject({ uuid: 'GPU-aa', index: 1, name: 'Tesla T4', utilPct: null, memUsedMiB: 300, tempC: null, powerW: null, powerLimitW: null });
    expect(parseNumberField('[Unknown Error]')).toBeNull();
    expect(parseNumberField('[GPU requires reset]')).toBeNull();
    expect(parseNumberField('N/A')).toBeNull();
    expect(parseNumberField('')).toBeNull();
    expect(parseNumberField(' 12.5 ')).toBe(12.5);
  });

  it('skips Xid event lines, error text, headers and blanks', () => {
    expect(parseGpuLine('Xid (PCI:0000:1b:00): 79, pid=2817, name=python3, GPU has fallen off the bus.')).toBeNull();
    expect(parseGpuLine('NVRM: Xid (PCI:0000:3b:00): 48, pid=1, name=x, An uncorrectable double bit error, a, b, c, d')).toBeNull();
    expect(parseGpuLine('Unable to determine the device handle for GPU0000:1B:00.0: GPU is lost.')).toBeNull();
    expect(parseGpuLine('uuid, index, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W], power.limit [W]')).toBeNull();
    expect(parseGpuLine('')).toBeNull();
    expect(parseGpuLine('GPU-aa, x, name, 1, 2, 3, 4, 5, 6')).toBeNull();
    expect(parseGpuLine('GPU-aa, 0, name, 1, 2')).toBeNull();
  });

  it('keeps a name that contains a comma whole', () => {
    expect(parseGpuLine('GPU-bb, 2, Weird, Name, 1, 2, 3, 4, 5, 6')?.name).toBe('Weird, Name');
  });

  it('reassembles lines split across chunks and drops CR', () => {
    const s = new LineSplitter();
    expect(s.push(H100.slice(0, 20))).toEqual([]);
    expect(s.push(H100.slice(20) + '\r\nGPU-cc, 1')).toEqual([H100]);
    expect(s.push(', x\n')).toEqual(['GPU-cc, 1, x']);
    expect(s.push('tail-without-newline')).toEqual([]);
    expect(s.flush()).toEqual(['tail-without-newline']);
    expect(s.flush()).toEqual([]);
  });

  it('parses compute apps, skipping "No running processes found"', () => {
    expect(parseComputeAppLine('GPU-aa, 4242, /usr/bin/python3, 40123')).toEqual({
      gpuUuid: 'GPU-aa',
      pid: 4242,
      name: '/usr/bin/python3',
      usedMemMiB: 40123,
    });
    expect(parseComputeAppLine('GPU-aa, 7, python3, [N/A]')?.usedMemMiB).toBeNull();
    expect(parseComputeApps('No running processes found\n\nGPU-aa, 1, a, 2\nGPU-bb, 0, b, 3\n')).toEqual([
      { gpuUuid: 'GPU-aa', pid: 1, name: 'a', usedMemMiB: 2 },
    ]);
  });

  it('builds the exact argv the real tool expects', () => {
    expect(gpuStreamArgs(500)).toEqual([
      '--query-gpu=uuid,index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit',
      '--format=csv,noheader,nounits',
      '-lms',
      '500',
    ]);
    expect(computeAppsArgs()).toEqual([
      '--query-compute-apps=gpu_uuid,pid,process_name,used_memory',
      '--format=csv,noheader,nounits',
    ]);
  });
});
