// Soak: many mixed requests at concurrency 64 against the real gateway process and the
// simulated upstream, every upstream fault included. Afterwards: exactly one usage-log row per
// request sent (matched by x-request-id), /metrics agrees with the log, RSS stays flat after
// warm-up, no client or upstream connection is left behind, and SIGTERM exits cleanly (a leaked
// ref'ed timer or socket would keep the process alive).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { countOf, metricSum, mib, rssBytes, rssReport, runPool, scrapeMetrics, socketCensus } from '../helpers/load.js';
import { checkOutcome, faultHome, kindFor, MODE, newAgent, pick, send, type Outcome } from './fixture.js';
import { report } from './report.js';

const TOTAL = pick(3000, 50_000);
const CONCURRENCY = 64;
const RSS_SAMPLES = 40;

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;

describe(`soak: ${TOTAL} mixed requests at concurrency ${CONCURRENCY} (${MODE})`, () => {
  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: true });
    home = faultHome(sim);
    gw = await startGateway({ home: home.home });
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await sim?.close();
    home?.cleanup();
  });

  it('one row per request, metrics = rows, flat RSS, no sockets left, clean exit', async () => {
    const pid = gw.child.pid!;
    const before = socketCensus(pid, gw.port, sim.port);
    const agent = newAgent(CONCURRENCY);
    const rss: number[] = [];
    const every = Math.max(1, Math.floor(TOTAL / RSS_SAMPLES));
    const outcomes: Outcome[] = await runPool(TOTAL, CONCURRENCY, async (i) => {
      if (i % every === 0) rss.push(rssBytes(pid) ?? 0);
      const kind = kindFor(i);
      return send(agent, gw.url, kind, `soak-${i}`);
    });
    const peak = socketCensus(pid, gw.port, sim.port);
    await agent.close();

    const problems = outcomes.map((o, i) => checkOutcome(o, kindFor(i))).filter((p): p is string => p !== null);
    expect(problems.slice(0, 10)).toEqual([]);

    // Rows are written after the response ends; the last ones may land a moment later.
    const rows = await waitFor(
      () => {
        const r = readUsageRows(home.runtimeDir);
        return r.length >= TOTAL ? r : undefined;
      },
      `${TOTAL} usage rows`,
      30_000,
      200,
    );
    const ids = new Set(rows.map((r) => r.request_id));
    expect(rows.length).toBe(TOTAL);
    expect(ids.size).toBe(TOTAL);
    for (let i = 0; i < TOTAL; i++) if (!ids.has(`soak-${i}`)) expect.fail(`no row for soak-${i}`);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (let i = 0; i < TOTAL; i++) {
      const kind = kindFor(i);
      const row = byId.get(`soak-${i}`)!;
      if (row.status !== kind.row) expect.fail(`soak-${i} (${kind.name}): row status ${row.status}, expected ${kind.row}`);
    }

    const metrics = await scrapeMetrics(gw.url);
    const counted = metricSum(metrics, 'backend_llm_requests_total');
    expect(counted).toBe(rows.length);
    const success = metricSum(metrics, 'backend_llm_requests_total', (l) => l.includes('status="success"'));
    expect(success).toBe(rows.filter((r) => r.status === 'success').length);
    expect(metricSum(metrics, 'backend_usage_log_dropped_total')).toBe(0);

    // Every upstream request ended: answered, or closed by the gateway (hang timeouts, cut streams).
    const open = await waitFor(
      () => {
        const stuck = sim.requests.filter((r) => r.closedAt === null);
        return stuck.length === 0 ? [] : undefined;
      },
      'every upstream request to close',
      10_000,
      100,
    ).catch(() => sim.requests.filter((r) => r.closedAt === null));
    expect(open.length).toBe(0);
    const hangs = sim.requests.filter((r) => r.mode === 'hang');
    expect(hangs.length).toBeGreaterThan(0);
    expect(hangs.every((r) => r.closedEarly)).toBe(true);

    // Our client connections are gone on the gateway side too; upstream keep-alive connections
    // stay pooled, bounded by the concurrency.
    const after = await waitFor(
      () => {
        const c = socketCensus(pid, gw.port, sim.port);
        return countOf(c.inbound) <= countOf(before.inbound) ? c : undefined;
      },
      'the gateway to drop every client socket',
      10_000,
      100,
    ).catch(() => socketCensus(pid, gw.port, sim.port));
    // (startGateway's /health probe may hold one idle keep-alive connection from the start)
    expect(countOf(after.inbound)).toBeLessThanOrEqual(countOf(before.inbound));
    expect(countOf(after.outbound)).toBeLessThanOrEqual(CONCURRENCY + 4);
    expect(after.outbound.CLOSE_WAIT ?? 0).toBe(0);
    expect(after.other).toBeLessThanOrEqual(before.other + 2);

    const r = rssReport(rss);
    // Generous: a leak of even 1 KB per request would show as tens of MB over the full run;
    // V8 heap growth and allocator slack stay far below this.
    expect(r.atEnd).toBeLessThan(r.afterWarmup * 1.5 + 64 * 1048576);

    const code = await gw.stop();
    expect(code).toBe(0);

    report('soak', {
      mode: MODE,
      requests: TOTAL,
      rows: rows.length,
      lost: TOTAL - ids.size,
      success_rows: success,
      error_rows: rows.length - success,
      metrics_total: counted,
      upstream_requests: sim.requests.length,
      upstream_aborted_by_gateway: sim.requests.filter((x) => x.closedEarly).length,
      rss_after_warmup_mib: mib(r.afterWarmup),
      rss_end_mib: mib(r.atEnd),
      rss_max_mib: mib(r.max),
      sockets_before: before.total,
      sockets_peak: peak.total,
      sockets_after: after.total,
      upstream_keepalive_after: countOf(after.outbound),
    });
  }, pick(180_000, 1_200_000));
});
