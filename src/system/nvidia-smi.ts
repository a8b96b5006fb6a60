// Pure parsing of `nvidia-smi --format=csv,noheader,nounits` output. No I/O here, so every
// odd line the driver can print (placeholders, Xid/error text, half lines) is unit-tested.
import type { GpuProcess, GpuReading } from './types.js';

export const GPU_QUERY_FIELDS = [
  'uuid',
  'index',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

export const COMPUTE_APP_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export const NVIDIA_SMI_FORMAT = '--format=csv,noheader,nounits';

/** argv of the one long-running stats child. */
export function gpuStreamArgs(refreshMs: number): string[] {
  return [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, NVIDIA_SMI_FORMAT, '-lms', String(refreshMs)];
}

/** argv of the short per-tick compute-apps query. */
export function computeAppsArgs(): string[] {
  return [`--query-compute-apps=${COMPUTE_APP_FIELDS.join(',')}`, NVIDIA_SMI_FORMAT];
}

export type { GpuReading } from './types.js';

// nvidia-smi identifies GPUs as GPU-<uuid> and MIG instances as MIG-<uuid>.
const UUID_RE = /^(GPU|MIG)-[0-9A-Za-z-]+$/;

/**
 * A numeric field, or null for anything that is not a number: `[N/A]`, `[Not Supported]`,
 * `[Unknown Error]`, `[GPU requires reset]`, `N/A`, empty. The UI shows null as `–`.
 */
export function parseNumberField(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const s = raw.trim();
  if (s === '' || s.startsWith('[') || s === 'N/A') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function splitCsv(line: string): string[] {
  return line.split(',').map((f) => f.trim());
}

/**
 * One --query-gpu line, or null when the line is not a GPU row (an Xid or error message,
 * a banner, a blank line). The name may in theory contain commas, so it is everything
 * between the index and the six trailing numeric fields.
 */
export function parseGpuLine(line: string): GpuReading | null {
  const fields = splitCsv(line);
  const numericTail = GPU_QUERY_FIELDS.length - 3;
  if (fields.length < GPU_QUERY_FIELDS.length) return null;
  const [uuid, indexRaw] = fields;
  if (!UUID_RE.test(uuid)) return null;
  const index = Number(indexRaw);
  if (!Number.isInteger(index) || index < 0) return null;
  const tail = fields.slice(fields.length - numericTail);
  const name = fields.slice(2, fields.length - numericTail).join(', ');
  const [util, memUsed, memTotal, temp, power, powerLimit] = tail.map(parseNumberField);
  return {
    uuid,
    index,
    name,
    utilPct: util,
    memUsedMiB: memUsed,
    memTotalMiB: memTotal,
    tempC: temp,
    powerW: power,
    powerLimitW: powerLimit,
  };
}

/** One --query-compute-apps line, or null ("No running processes found", errors, blanks). */
export function parseComputeAppLine(line: string): GpuProcess | null {
  const fields = splitCsv(line);
  if (fields.length < COMPUTE_APP_FIELDS.length) return null;
  const gpuUuid = fields[0];
  if (!UUID_RE.test(gpuUuid)) return null;
  const pid = Number(fields[1]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return {
    gpuUuid,
    pid,
    name: fields.slice(2, fields.length - 1).join(', '),
    usedMemMiB: parseNumberField(fields[fields.length - 1]),
  };
}

export function parseComputeApps(output: string): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const line of output.split('\n')) {
    const app = parseComputeAppLine(line);
    if (app) out.push(app);
  }
  return out;
}

/**
 * Reassembles lines from a byte stream: a chunk may end in the middle of a line, and the
 * rest arrives with the next chunk. `\r` is dropped (nvidia-smi on some setups prints CRLF).
 * A line longer than `maxLineChars` is cut to that (the rest of it is dropped and `cutLines`
 * counts it), so a stream that never sends a newline cannot grow memory without bound.
 */
export class LineSplitter {
  private partial = '';
  private cutting = false;
  cutLines = 0;

  constructor(private readonly maxLineChars = Number.MAX_SAFE_INTEGER) {}

  push(chunk: string): string[] {
    const out: string[] = [];
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
      this.append(chunk.slice(from, nl));
      out.push(this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial);
      this.partial = '';
      this.cutting = false;
      from = nl + 1;
    }
    this.append(chunk.slice(from));
    return out;
  }

  /** The unterminated rest, when the stream ends. */
  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    this.cutting = false;
    return rest === '' ? [] : [rest];
  }

  private append(piece: string): void {
    const room = this.maxLineChars - this.partial.length;
    if (piece.length <= room) {
      this.partial += piece;
      return;
    }
    this.partial += piece.slice(0, room);
    if (!this.cutting) this.cutLines++;
    this.cutting = true;
  }
}
