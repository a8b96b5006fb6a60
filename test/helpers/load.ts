// Load generation and process inspection for the fault suites: a bounded-concurrency
// runner, the gateway's sockets and RSS read from /proc, and /metrics sums. Linux only.
import fs from 'node:fs';
import http from 'node:http';

/** Runs fn(0..total-1) with at most `concurrency` in flight; results in index order. */
export async function runPool<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(total);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return out;
}

/** Resident set size of a process in bytes (VmRSS), null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time a process has used so far (user + system), in ms; null when it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks, USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

interface TcpEntry {
  localPort: number;
  remotePort: number;
  /** /proc/net/tcp state: 01 ESTABLISHED, 0A LISTEN, 06 TIME_WAIT, 08 CLOSE_WAIT, ... */
  state: string;
}

const STATE_NAMES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** inode -> TCP entry, from /proc/net/tcp and tcp6. */
function tcpTable(): Map<string, TcpEntry> {
  const out = new Map<string, TcpEntry>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (addr: string) => parseInt(addr.slice(addr.indexOf(':') + 1), 16);
      out.set(f[9], { localPort: port(f[1]), remotePort: port(f[2]), state: STATE_NAMES[f[3]] ?? f[3] });
    }
  }
  return out;
}

export interface SocketCensus {
  /** every socket fd of the process (TCP, unix, ...) */
  total: number;
  /** accepted client connections on the gateway port, by TCP state */
  inbound: Record<string, number>;
  /** connections to the upstream port, by TCP state */
  outbound: Record<string, number>;
  /** sockets that are neither (listeners, unix sockets, other peers) */
  other: number;
}

/**
 * The sockets a process holds, from /proc/<pid>/fd matched against /proc/net/tcp: how many are
 * client connections to `servePort` and how many go to `upstreamPort`.
 */
export function socketCensus(pid: number, servePort: number, upstreamPort: number): SocketCensus {
  const table = tcpTable();
  const census: SocketCensus = { total: 0, inbound: {}, outbound: {}, other: 0 };
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return census;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (!m) continue;
    census.total++;
    const e = table.get(m[1]);
    if (e && e.localPort === servePort && e.state !== 'LISTEN') census.inbound[e.state] = (census.inbound[e.state] ?? 0) + 1;
    else if (e && e.remotePort === upstreamPort) census.outbound[e.state] = (census.outbound[e.state] ?? 0) + 1;
    else census.other++;
  }
  return census;
}

export const countOf = (byState: Record<string, number>): number => Object.values(byState).reduce((a, b) => a + b, 0);

/** Sum of every sample of a metric (all label sets) in Prometheus text, optionally filtered by a label. */
export function metricSum(text: string, name: string, where?: (labels: string) => boolean): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labels = '';
    let value: string;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      labels = rest.slice(1, close);
      value = rest.slice(close + 1).trim();
    } else if (rest.startsWith(' ')) value = rest.trim();
    else continue; // a longer metric name with this prefix (_bucket, _sum, ...)
    if (where && !where(labels)) continue;
    sum += Number(value.split(' ')[0]);
  }
  return sum;
}

/**
 * GET on a connection of its own that closes afterwards (`Connection: close`), so probing the
 * gateway never leaves a keep-alive socket behind to be mistaken for a leak.
 */
export function getOnce(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export async function scrapeMetrics(gatewayUrl: string, authorization?: string): Promise<string> {
  const r = await getOnce(`${gatewayUrl}/metrics`, authorization ? { authorization } : {});
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.text;
}

export interface RssReport {
  samples: number[];
  /** median of the samples taken right after warm-up */
  afterWarmup: number;
  /** median of the last samples */
  atEnd: number;
  max: number;
}

/** Summary of RSS samples (bytes) taken at even progress steps; the first `warmupShare` is ignored. */
export function rssReport(samples: number[], warmupShare = 0.2): RssReport {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const start = Math.max(1, Math.floor(samples.length * warmupShare));
  const window = Math.max(1, Math.floor(samples.length * 0.15));
  return {
    samples,
    afterWarmup: median(samples.slice(start, start + window)),
    atEnd: median(samples.slice(-window)),
    max: Math.max(...samples),
  };
}

export const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
