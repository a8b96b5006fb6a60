// What the system collectors report to the dashboard. Collectors (gpu.ts, host.ts,
// services.ts) render nothing; the console mirrors them into its stores and passes these as props.
import os from 'node:os';

/** One GPU as one line of `nvidia-smi --query-gpu` reports it. */
export interface GpuReading {
  uuid: string;
  index: number;
  name: string;
  /** null where nvidia-smi says [N/A] or [Not Supported] (shown as –) */
  utilPct: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  tempC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
}

export interface GpuSample extends GpuReading {
  /** the last samples of utilPct, oldest first, for the sparkline */
  utilHistory: number[];
  memHistory: number[];
}

export interface GpuProcess {
  gpuUuid: string;
  pid: number;
  name: string;
  usedMemMiB: number | null;
}

export interface GpuState {
  /** false when nvidia-smi is absent or cannot talk to the driver */
  available: boolean;
  /** one line for the operator, e.g. "nvidia-smi not found" or "NVIDIA driver not loaded (exit 9)" */
  notice: string | null;
  gpus: GpuSample[];
  processes: GpuProcess[];
  updatedAt: number | null;
}

export interface HostState {
  cpuPct: number | null;
  cores: number;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  diskPath: string;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  updatedAt: number | null;
}

/** Before the first reading: every figure unknown, never a made-up zero. */
export function emptyHostState(diskPath: string): HostState {
  return {
    cpuPct: null,
    cores: os.cpus().length,
    memUsedBytes: null,
    memTotalBytes: null,
    diskPath,
    diskUsedBytes: null,
    diskTotalBytes: null,
    load1: null,
    load5: null,
    load15: null,
    updatedAt: null,
  };
}

export type HealthResult = 'ok' | 'fail' | 'none';

export interface ServiceState {
  provider: string;
  unit: string;
  loadState: string | null;
  activeState: string | null;
  subState: string | null;
  mainPid: number | null;
  /** ISO time the main process started, or null */
  since: string | null;
  health: HealthResult;
  healthDetail: string | null;
  /** GPU memory of compute apps whose pid is MainPID or a descendant of it */
  gpuMemMiB: number | null;
  /** last error talking to systemctl about this unit (access denied, unknown unit) */
  error: string | null;
}

export interface ServicesState {
  /** false when /run/systemd/system is absent or systemctl is missing: actions disabled */
  systemdAvailable: boolean;
  notice: string | null;
  services: ServiceState[];
}

export type ServiceVerb = 'start' | 'stop' | 'restart';

export interface ServiceActionResult {
  ok: boolean;
  unit: string;
  verb: ServiceVerb;
  /** the argv that ran, for the status line and tests */
  argv: string[];
  /** one line: what the status line says */
  message: string;
  /** everything systemctl printed (stderr, then stdout), line by line, bounded */
  output?: string[];
}

