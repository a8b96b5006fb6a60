// What the App reads is what came in, cleaned at one place: the gateway child's last log line
// (why it died) and a /budgets answer from an HTTP server, both hostile, through the real
// supervisor, the real BudgetFeed and the session's mirror.
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ValueStore } from '../../src/system/store.js';
import { mirrorInto } from '../../src/tui/data/boundary.js';
import { BudgetFeed } from '../../src/tui/data/budgetFeed.js';
import { GatewaySupervisor } from '../../src/tui/gatewayChild/supervisor.js';
import { freePort, waitFor } from '../helpers/gateway.js';
import { HOSTILE_TEXT } from '../helpers/hostileText.js';
import { tempDir } from '../helpers/usage.js';

const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e]/;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the boundary where outside text enters the console', () => {
  it('cleans the rows of a source that never changes a row once published, each row once', () => {
    const hostile = { id: 1, error_message: HOSTILE_TEXT.join(' '), model: 'ok' };
    const plain = { id: 2, error_message: null, model: 'gpt-4' };
    const source = new ValueStore({ rows: [hostile, plain] as Array<typeof hostile | typeof plain> });
    const shown = new ValueStore(source.getSnapshot());
    cleanups.push(mirrorInto(source, shown, { immutable: true }));
    const first = shown.getSnapshot().rows;
    expect(first[0].error_message).not.toMatch(CONTROL);
    expect(first[0]).not.toBe(hostile); // a cleaned copy
    expect(first[1]).toBe(plain); // nothing to clean: the row itself
    // the next value holds the same rows and a new hostile one: the same cleaned copies come back
    const fresh = { id: 3, error_message: `\x1b]52;c;${'A'.repeat(8)}\x07new`, model: 'x' };
    source.set({ rows: [fresh, hostile, plain] });
    const next = shown.getSnapshot().rows;
    expect(next[0].error_message).toBe('\ufffdnew');
    expect(next[1]).toBe(first[0]);
    expect(next[2]).toBe(plain);
  });

  it('cleans the reason a gateway child died, read from its log', async () => {
    const dir = tempDir('ptui-boundary-');
    cleanups.push(() => dir.cleanup());
    const line = JSON.stringify({ level: 'error', event: 'listen_failed', error: HOSTILE_TEXT.join(' ') });
    const sup = new GatewaySupervisor({
      host: '127.0.0.1',
      port: await freePort(),
      spawn: true,
      args: ['-e', `process.stderr.write(${JSON.stringify(line + '\n')}); process.exit(1)`],
      logFile: path.join(dir.dir, 'gateway.log'),
      runtimeDir: dir.dir,
      initialBackoffMs: 60_000,
    });
    cleanups.push(() => sup.stop());
    const shown = new ValueStore(sup.getSnapshot());
    cleanups.push(mirrorInto(sup, shown));
    await sup.start();
    await waitFor(() => sup.getSnapshot().lastExit, 'the exit');
    expect(sup.getSnapshot().lastExit).toMatch(CONTROL); // the raw reason as read
    expect(shown.getSnapshot().lastExit).toContain('exit 1: listen_failed: ');
    expect(shown.getSnapshot().lastExit).not.toMatch(CONTROL);
  });

  it('cleans budget targets answered over HTTP', async () => {
    const server = http.createServer((_req, res) => {
      const budgets = HOSTILE_TEXT.map((target) => ({
        scope: 'model', target, max_budget_usd: 1, budget_window: '1h', window_seconds: 3600, action: 'warn', spend_usd: 0.5, remaining_usd: 0.5, exceeded: false,
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(budgets));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const feed = new BudgetFeed({ refreshMs: 60_000, gatewayUrl: () => url, masterKey: () => undefined, budgets: () => [], db: () => null });
    const shown = new ValueStore(feed.getSnapshot());
    cleanups.push(mirrorInto(feed, shown));
    await feed.refresh();
    expect(shown.getSnapshot().source).toBe('gateway');
    expect(shown.getSnapshot().rows).toHaveLength(HOSTILE_TEXT.length);
    for (const r of shown.getSnapshot().rows) expect(r.target).not.toMatch(CONTROL);
    expect(feed.getSnapshot().rows.some((r) => CONTROL.test(r.target))).toBe(true);
  });
});
