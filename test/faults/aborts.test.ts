// Client aborts: clients that hang up at every point of a request: while sending the
// body, while the upstream works on it (before headers), mid-stream, and at a random moment.
// Afterwards: each request has its row (client_closed where it was cut short), every upstream
// request the gateway made was closed (the simulator saw the close for those cut short), and no
// socket is left on either side of the gateway.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimRequest, type SimUpstream } from '../../src/sim/upstream.js';
import { readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { countOf, metricSum, runPool, scrapeMetrics, socketCensus } from '../helpers/load.js';
import { faultHome, MODE, pick } from './fixture.js';
import { report } from './report.js';
import { mulberry32 } from '../../src/usage/generate.js';

const CLIENTS = pick(200, 1000);
const CONCURRENCY = 50;
const UPSTREAM_LATENCY_MS = 300;

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;

type Point = 'mid-body' | 'before-headers' | 'mid-stream' | 'random';
const POINTS: Point[] = ['mid-body', 'before-headers', 'mid-stream', 'random'];

/** Upstream requests by the client id carried in the prompt (the gateway does not forward x-request-id). */
class UpstreamIndex {
  private seen = 0;
  private readonly byId = new Map<string, SimRequest>();
  constructor(private readonly sim: SimUpstream) {}
  get(id: string): SimRequest | undefined {
    const reqs = this.sim.requests;
    for (; this.seen < reqs.length; this.seen++) {
      const body = reqs[this.seen].body as { messages?: Array<{ content?: string }> };
      const content = body?.messages?.[0]?.content;
      if (typeof content === 'string') this.byId.set(content.split(' ')[0], reqs[this.seen]);
    }
    return this.byId.get(id);
  }
}

interface Hangup {
  id: string;
  point: Point;
  /** the client saw the complete response before it hung up (possible only for 'random'), or
   *  hung up 'before headers' only after the upstream had answered */
  completed: boolean;
}

function hangUp(url: string, id: string, point: Point, index: UpstreamIndex, delayMs: number): Promise<Hangup> {
  const body = JSON.stringify({
    model: 'ok',
    stream: point !== 'before-headers',
    messages: [{ role: 'user', content: `${id} tell me a long story` }],
  });
  return new Promise((resolve, reject) => {
    let completed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ id, point, completed });
    };
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': id,
        ...(point === 'mid-body' ? { expect: '100-continue' } : {}),
      },
    });
    req.on('error', finish); // our own destroy, or the gateway closing first
    req.on('close', finish);
    req.on('response', (res) => {
      res.on('data', () => {
        if (point === 'mid-stream') req.destroy();
      });
      res.on('end', () => {
        completed = true;
      });
      res.on('error', () => {});
    });
    let poll: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (point === 'mid-body') {
      // `Expect: 100-continue`: the gateway's 100 proves the request reached its handler, so
      // the hang-up below is one the gateway must see (and log), not a connection it never had.
      req.on('continue', () => {
        req.write(body.slice(0, body.length >> 1));
        timer = setTimeout(() => req.destroy(), delayMs % 50);
      });
      return;
    }
    req.end(body);
    if (point === 'before-headers') {
      // Hang up once the upstream is working on it (it answers only after UPSTREAM_LATENCY_MS).
      // On a busy machine this poll can first run after the upstream already answered: then the
      // gateway may have answered too, and its row rightly says success, so that hang-up counts
      // as one after the end.
      poll = setInterval(() => {
        const seen = index.get(id);
        if (!seen) return;
        if (seen.completed) completed = true;
        req.destroy();
      }, 5);
    } else if (point === 'random') {
      timer = setTimeout(() => req.destroy(), delayMs);
    }
    setTimeout(() => reject(new Error(`${id}: client never finished`)), 30_000).unref();
  });
}

describe(`client aborts: ${CLIENTS} clients hang up at random points (${MODE})`, () => {
  beforeAll(async () => {
    // Slow enough that "before headers" and "mid-stream" are real moments, not races.
    sim = await startSimUpstream({ latencyMs: UPSTREAM_LATENCY_MS, chunkIntervalMs: 20, completionTokens: 30 });
    home = faultHome(sim);
    gw = await startGateway({ home: home.home });
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await sim?.close();
    home?.cleanup();
  });

  it('every row present, every upstream request closed, no sockets left', async () => {
    const pid = gw.child.pid!;
    const before = socketCensus(pid, gw.port, sim.port);
    const index = new UpstreamIndex(sim);
    const rand = mulberry32(7);
    const plan = Array.from({ length: CLIENTS }, (_, i) => ({
      id: `abort-${i}`,
      point: POINTS[i % POINTS.length],
      delayMs: Math.floor(rand() * (UPSTREAM_LATENCY_MS + 700)),
    }));
    const results = await runPool(CLIENTS, CONCURRENCY, (i) => hangUp(gw.url, plan[i].id, plan[i].point, index, plan[i].delayMs));

    // A 'random' client that hangs up within a few ms may be gone before the gateway parsed its
    // request (a reset on an unread connection): such a request never reached the gateway and
    // has no row. Any request the upstream saw certainly reached it.
    const mayBeUnseen = (p: (typeof plan)[number]) => p.point === 'random' && !index.get(p.id);
    const atLeast = plan.filter((p) => !mayBeUnseen(p)).length;
    let lastCount = -1;
    const rows = await waitFor(
      () => {
        const r = readUsageRows(home.runtimeDir);
        // enough rows, and no new one since the last look
        const settled = r.length >= atLeast && r.length === lastCount;
        lastCount = r.length;
        return settled ? r : undefined;
      },
      `${atLeast}+ rows`,
      15_000,
      300,
    ).catch(() => readUsageRows(home.runtimeDir));
    const have = new Set(rows.map((r) => r.request_id));
    const missing = plan.filter((p) => !have.has(p.id) && !mayBeUnseen(p)).map((p) => `${p.id} (${p.point})`);
    expect(missing.slice(0, 10), `${missing.length} requests without a row`).toEqual([]);
    const neverReached = plan.filter((p) => !have.has(p.id));
    // Only hang-ups within the first moments can miss the gateway entirely.
    for (const p of neverReached) expect(p.delayMs, `${p.id} hung up after ${p.delayMs} ms and has no row`).toBeLessThan(50);
    expect(rows.length).toBe(CLIENTS - neverReached.length);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const h of results) {
      const row = byId.get(h.id);
      if (!row) {
        if (neverReached.some((p) => p.id === h.id)) continue;
        expect.fail(`no row for ${h.id} (${h.point})`);
      }
      if (h.completed) continue;
      // Cut short: the row says the client left (499), whatever the upstream was doing.
      if (h.point !== 'random' && (row.error_type !== 'client_closed' || row.http_status !== 499)) {
        expect.fail(`${h.id} (${h.point}): row ${row.status} ${row.http_status} ${row.error_type}, expected client_closed 499`);
      }
    }

    // The gateway passed the hang-up on: every upstream request is closed, and the ones whose
    // client left before the end were closed before the simulator finished them.
    await waitFor(() => sim.requests.every((r) => r.closedAt !== null), 'every upstream request to close', 10_000, 50).catch(() => {});
    const stillOpen = sim.requests.filter((r) => r.closedAt === null).length;
    expect(stillOpen).toBe(0);
    let upstreamAborted = 0;
    for (const h of results) {
      const up = index.get(h.id);
      if (h.point === 'mid-body') {
        if (up) expect.fail(`${h.id}: a request whose body never arrived reached the upstream`);
        continue;
      }
      if ((h.point === 'before-headers' && !h.completed) || h.point === 'mid-stream') {
        if (!up) expect.fail(`${h.id} (${h.point}): never reached the upstream`);
        if (!up.closedEarly) expect.fail(`${h.id} (${h.point}): the upstream request was not aborted`);
      }
      if (up?.closedEarly) upstreamAborted++;
    }

    const metrics = await scrapeMetrics(gw.url);
    expect(metricSum(metrics, 'backend_llm_requests_total')).toBe(rows.length);

    const after = await waitFor(
      () => {
        const c = socketCensus(pid, gw.port, sim.port);
        return countOf(c.inbound) <= countOf(before.inbound) ? c : undefined;
      },
      'client sockets to close',
      10_000,
      100,
    ).catch(() => socketCensus(pid, gw.port, sim.port));
    expect(countOf(after.inbound)).toBeLessThanOrEqual(countOf(before.inbound));
    expect(after.outbound.CLOSE_WAIT ?? 0).toBe(0);
    expect(countOf(after.outbound)).toBeLessThanOrEqual(CONCURRENCY + 4);
    expect(await sim.connections()).toBeLessThanOrEqual(CONCURRENCY + 4);

    const code = await gw.stop();
    expect(code).toBe(0);

    const count = (p: Point) => results.filter((h) => h.point === p).length;
    report('aborts', {
      mode: MODE,
      clients: CLIENTS,
      rows: rows.length,
      never_reached_gateway: neverReached.length,
      lost: missing.length,
      client_closed_rows: rows.filter((r) => r.error_type === 'client_closed').length,
      completed_before_hangup: results.filter((h) => h.completed).length,
      by_point: Object.fromEntries(POINTS.map((p) => [p, count(p)])),
      upstream_requests: sim.requests.length,
      upstream_aborted: upstreamAborted,
      upstream_left_open: stillOpen,
      gateway_client_sockets_after: countOf(after.inbound),
      gateway_upstream_sockets_after: countOf(after.outbound),
    });
  }, pick(120_000, 600_000));
});
