// `ptui gateway status` and `ptui gateway stop`: the gateway the runtime dir records, proven
// to be that one (a reused pid or a program on its port is never signalled), its uptime and
// requests served, and a graceful stop (SIGTERM: it drains requests in flight, then exits).
import { readInstanceRecord, isProcessAlive, type InstanceRecord } from '../../config/instance-record.js';
import { resolvePaths, type PathOptions } from '../../config/paths.js';
import { cleanText } from '../data/cleanText.js';
import { duration } from '../presentation/format.js';
import { getJson } from './httpGet.js';
import { baseUrl, probeGateway } from './probe.js';
import { terminate } from './process.js';

type Found = { ok: true; record: InstanceRecord } | { ok: false; message: string; code: number };

async function findOurs(runtimeDir: string): Promise<Found> {
  const read = readInstanceRecord(runtimeDir);
  if (read.state === 'none') return { ok: false, code: 3, message: `no gateway recorded in ${runtimeDir}` };
  if (read.state === 'invalid') return { ok: false, code: 1, message: `not trusted: ${read.reason}` };
  const { record } = read;
  if (!isProcessAlive(record.pid)) return { ok: false, code: 3, message: `the recorded gateway (pid ${record.pid}, port ${record.port}) is gone: stale record` };
  const probe = await probeGateway(record.host, record.port, { runtimeDir, timeoutMs: 2000 });
  if (probe.kind !== 'ours') {
    const why = probe.kind === 'unproven' ? probe.why : probe.kind === 'other' ? probe.detail : 'nothing listens there';
    return { ok: false, code: 1, message: `pid ${record.pid} is recorded on port ${record.port}, but it does not prove it is that gateway (${why}): left alone` };
  }
  return { ok: true, record };
}

/** Requests served so far, from the gateway's own counter on /metrics. */
async function servedRequests(record: InstanceRecord): Promise<number | null> {
  try {
    const res = await getJson(`${baseUrl(record.host, record.port)}/metrics`, { timeoutMs: 2000 });
    if (res.status !== 200) return null;
    let total = 0;
    for (const m of res.text.matchAll(/^backend_llm_requests_total(?:\{[^}]*\})? ([0-9.eE+]+)$/gm)) total += Number(m[1]);
    return Number.isFinite(total) ? total : null;
  } catch {
    return null;
  }
}

export async function runGatewayStatus(opts: PathOptions & { json?: boolean }, out = process.stdout): Promise<number> {
  const { runtimeDir } = resolvePaths(opts);
  const found = await findOurs(runtimeDir);
  if (!found.ok) {
    if (opts.json) out.write(JSON.stringify({ running: false, reason: found.message }) + '\n');
    else out.write(`ptui gateway: ${cleanText(found.message)}\n`);
    return found.code;
  }
  const { record } = found;
  const uptimeS = Math.max(0, (Date.now() - Date.parse(record.started_at)) / 1000);
  const served = await servedRequests(record);
  const fields = { running: true, pid: record.pid, host: record.host, port: record.port, started_at: record.started_at, uptime_s: Math.floor(uptimeS), version: record.version, requests_served: served };
  if (opts.json) out.write(JSON.stringify(fields) + '\n');
  else {
    out.write(
      `ptui gateway: running, pid ${record.pid}, ${record.host}:${record.port}, up ${duration(uptimeS)}, ` +
        `${served === null ? 'requests served unknown' : `${served} requests served`}, version ${cleanText(record.version)}\n`,
    );
  }
  return 0;
}

export async function runGatewayStop(opts: PathOptions & { timeoutMs?: number }, out = process.stdout): Promise<number> {
  const { runtimeDir } = resolvePaths(opts);
  const found = await findOurs(runtimeDir);
  if (!found.ok) {
    out.write(`ptui gateway: ${cleanText(found.message)}\n`);
    return found.code === 3 ? 0 : found.code;
  }
  const { pid, port } = found.record;
  out.write(`ptui gateway: stopping pid ${pid} on port ${port} (it finishes requests in flight)…\n`);
  await terminate(pid, opts.timeoutMs ?? 15_000);
  out.write(`ptui gateway: stopped\n`);
  return 0;
}
