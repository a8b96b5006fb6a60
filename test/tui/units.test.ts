// The dashboard's pure pieces: key table, layout arithmetic, formatting, health parsing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEY_BINDINGS, bindingLabel, helpRows, keyMatches, resolveKey as resolve, type KeyMode } from '../../src/tui/keys/bindings.js';
import { decodeKey, keyPresses } from '../../src/tui/keys/keyPress.js';
import { PANEL_IDS } from '../../src/tui/panels/catalog.js';
import { computeLayout } from '../../src/tui/presentation/layout.js';
import { bar, duration, fit, roughDuration, sparkline, usd } from '../../src/tui/presentation/format.js';
import { parseHealth } from '../../src/tui/gatewayChild/probe.js';
import { describeExit, lastLogReason } from '../../src/tui/gatewayChild/supervisor.js';
import { wordWrap } from '../../src/tui/presentation/format.js';
import { tempDir } from '../helpers/usage.js';
import { forecast, forecastText, moneyPair, type BudgetRow } from '../../src/tui/presentation/budgetView.js';

/** What the terminal sends for a key: a character, or an escape sequence for a named one. */
const RAW: Record<string, string> = { tab: '\t', shiftTab: '\x1b[Z', up: '\x1b[A', escape: '\x1b', ctrlC: '\x03' };
const resolveKey = (raw: string, mode: KeyMode) => resolve(decodeKey(raw), mode);

describe('keys', () => {
  it('maps the documented keys in the main screen', () => {
    expect(resolveKey(RAW.tab, 'main')).toEqual({ type: 'focusNext' });
    expect(resolveKey(RAW.shiftTab, 'main')).toEqual({ type: 'focusPrev' });
    PANEL_IDS.forEach((panel, i) => expect(resolveKey(String(i + 1), 'main')).toEqual({ type: 'focus', panel }));
    expect(resolveKey('3', 'main')).toEqual({ type: 'focus', panel: 'services' });
    expect(resolveKey('j', 'main')).toEqual({ type: 'move', motion: 'down' });
    expect(resolveKey(RAW.up, 'main')).toEqual({ type: 'move', motion: 'up' });
    expect(resolveKey('g', 'main')).toEqual({ type: 'move', motion: 'top' });
    expect(resolveKey('G', 'main')).toEqual({ type: 'move', motion: 'bottom' });
    expect(resolveKey('\x1b[6~', 'main')).toEqual({ type: 'move', motion: 'pageDown' });
    expect(resolveKey('\r', 'main')).toEqual({ type: 'detail' });
    expect(resolveKey('s', 'main')).toEqual({ type: 'service', verb: 'start' });
    expect(resolveKey('x', 'main')).toEqual({ type: 'service', verb: 'stop' });
    expect(resolveKey('r', 'main')).toEqual({ type: 'service', verb: 'restart' });
    expect(resolveKey('e', 'main')).toEqual({ type: 'exportConfig' });
    expect(resolveKey('R', 'main')).toEqual({ type: 'restartGateway' });
    expect(resolveKey('l', 'main')).toEqual({ type: 'journal' });
    expect(resolveKey('L', 'main')).toEqual({ type: 'gatewayLog' });
    expect(resolveKey('c', 'main')).toEqual({ type: 'routing' });
    expect(resolveKey('?', 'main')).toEqual({ type: 'help' });
    expect(resolveKey('q', 'main')).toEqual({ type: 'quit' });
    expect(resolveKey(RAW.ctrlC, 'main')).toEqual({ type: 'quit' });
  });

  it('lets a confirmation take only y, n (or q, Esc: no) and Ctrl-C', () => {
    expect(resolveKey('y', 'confirm')).toEqual({ type: 'confirm' });
    expect(resolveKey('n', 'confirm')).toEqual({ type: 'cancel' });
    expect(resolveKey(RAW.escape, 'confirm')).toEqual({ type: 'cancel' });
    expect(resolveKey('q', 'confirm')).toEqual({ type: 'cancel' });
    for (const k of ['s', 'x', 'r', 'j', 'g', 'G', 'e', 'R', '1', 'c', '\r']) expect(resolveKey(k, 'confirm')).toBeNull();
    expect(resolveKey(RAW.ctrlC, 'confirm')).toEqual({ type: 'quit' });
  });

  it('does not run service actions from a view, and q there closes it instead of quitting', () => {
    for (const k of ['s', 'x', 'r', 'e', 'R']) expect(resolveKey(k, 'view')).toBeNull();
    expect(resolveKey(RAW.escape, 'view')).toEqual({ type: 'close' });
    expect(resolveKey('q', 'view')).toEqual({ type: 'close' });
    expect(resolveKey(RAW.ctrlC, 'view')).toEqual({ type: 'quit' });
  });

  it('has a help row for every labelled binding and one binding per key', () => {
    expect(helpRows().map((r) => r.label)).toEqual(KEY_BINDINGS.map(bindingLabel));
    const seen = new Set<string>();
    for (const c of 'abcdefghijklmnopqrstuvwxyzGLRS?123456') {
      const hits = KEY_BINDINGS.filter((b) => b.modes.includes('main') && b.keys.some((s) => keyMatches(s, decodeKey(c))));
      expect(hits.length, `key ${c}`).toBeLessThanOrEqual(1);
      if (hits.length) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe('123456?GLRcegjklqrsx');
  });
});

describe('key presses', () => {
  const names = (raw: string) => keyPresses(raw).map((k) => (k.ctrl ? `C-${k.name}` : k.shift && k.name.length > 1 ? `S-${k.name}` : k.name));
  it('splits what arrives in one read into every key, escape sequences included', () => {
    expect(names('jj')).toEqual(['j', 'j']);
    expect(names('3j')).toEqual(['3', 'j']);
    expect(names('\x1b[B\x1b[B')).toEqual(['down', 'down']);
    expect(names('j\x1b[Ak\x1b[6~\x1bOA')).toEqual(['j', 'up', 'k', 'pagedown', 'up']);
    expect(names('\x1bq')).toEqual(['escape', 'q']); // Esc then q, typed quickly
    expect(names('\x1b')).toEqual(['escape']);
    expect(names('\t\x1b[Z\r\x03')).toEqual(['tab', 'S-tab', 'return', 'C-c']);
    expect(names('\x1b[1;5A')).toEqual(['C-up']);
    expect(names('模🚀')).toEqual(['模', '🚀']);
  });
});

describe('layout', () => {
  for (const [columns, rows] of [
    [80, 24],
    [120, 40],
    [200, 60],
  ]) {
    it(`fills ${columns}×${rows} minus one line exactly`, () => {
      const l = computeLayout({ columns, rows, gpuLines: 4, serviceLines: 3, budgetLines: 5 });
      expect(l.tooSmall).toBe(false);
      expect(2 + l.topHeight + l.middleHeight + l.budgetsHeight + l.requestsHeight).toBe(rows - 1);
      expect(l.leftWidth + 1 + l.rightWidth).toBe(columns);
      expect(l.requestsHeight).toBeGreaterThanOrEqual(4);
      expect(l.topHeight).toBeGreaterThanOrEqual(5); // Host's four lines
    });
  }
  it('is too small under 80 columns or 24 rows', () => {
    expect(computeLayout({ columns: 79, rows: 40, gpuLines: 1, serviceLines: 1, budgetLines: 1 }).tooSmall).toBe(true);
    expect(computeLayout({ columns: 120, rows: 23, gpuLines: 1, serviceLines: 1, budgetLines: 1 }).tooSmall).toBe(true);
  });
  it('keeps Requests usable when many GPUs and budgets compete at 80×24', () => {
    const l = computeLayout({ columns: 80, rows: 24, gpuLines: 16, serviceLines: 8, budgetLines: 12 });
    expect(l.requestsHeight).toBeGreaterThanOrEqual(4);
    expect(2 + l.topHeight + l.middleHeight + l.budgetsHeight + l.requestsHeight).toBe(23);
  });
});

describe('format', () => {
  it('fits text to a width', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abc', 5, 'right')).toBe('  abc');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abc', 0)).toBe('');
  });
  it('draws sparklines and bars', () => {
    expect(sparkline([0, 50, 100], 3)).toBe('▁▅█');
    expect(sparkline([100], 3)).toBe('  █');
    expect(bar(0.5, 4)).toBe('██░░');
    expect(bar(2, 4)).toBe('████');
    expect(bar(Number.NaN, 2)).toBe('░░');
  });
  it('writes durations and money', () => {
    expect(duration(45)).toBe('45s');
    expect(duration(3725)).toBe('1h02m');
    expect(duration(null)).toBe('–');
    expect(roughDuration(1200)).toBe('~20m');
    expect(roughDuration(9000)).toBe('~2.5h');
    expect(roughDuration(5 * 86400)).toBe('~5d');
    expect(usd(0)).toBe('$0');
    expect(usd(0.0012)).toBe('$0.0012');
    expect(usd(0.00004)).toBe('<$0.0001');
    expect(usd(12.345)).toBe('$12.35');
    expect(usd(null)).toBe('–');
  });
  it('wraps a message at spaces', () => {
    expect(wordWrap('GET /health answered HTTP 404, not a ptui gateway', 30, 3)).toEqual(['GET /health answered HTTP 404,', 'not a ptui gateway']);
    expect(wordWrap('a b c d e f', 3, 2)).toEqual(['a b', 'c d e f']);
  });
});

describe('gateway probe and supervisor helpers', () => {
  it('recognises a ptui /health and nothing else', () => {
    expect(parseHealth({ status: 'ok', version: '0.1.0', uptime_s: 12 })).toEqual({ status: 'ok', version: '0.1.0', uptimeS: 12, configError: null });
    expect(parseHealth({ status: 'degraded', uptime_s: 3, config_error: 'providers.yaml: x: bad' })?.configError).toBe('providers.yaml: x: bad');
    expect(parseHealth({ status: 'degraded', uptime_s: 3, shared: { state: 'down', reason: 'Redis at redis://h:6379 refused the connection', gateways: ['a', 'b'] } })?.shared).toEqual({
      state: 'down',
      reason: 'Redis at redis://h:6379 refused the connection',
      gateways: 2,
    });
    expect(parseHealth({ status: 'ok', uptime_s: 3, shared: { state: 'sideways' } })?.shared).toBeUndefined();
    expect(parseHealth({ status: 'ok' })).toBeNull(); // some other service's health check
    expect(parseHealth({ status: 'UP', version: '1' })).toBeNull();
    expect(parseHealth('ok')).toBeNull();
  });
  it('explains an exit from the last line the gateway logged', () => {
    const dir = tempDir('ptui-reason-');
    try {
      const log = path.join(dir.dir, 'gateway.log');
      expect(lastLogReason(log)).toBeNull();
      fs.writeFileSync(log, '{"level":"info","event":"listening"}\n{"level":"error","event":"listen_failed","error":"EADDRINUSE"}\n{"event":"supervisor_exit"}\n');
      expect(lastLogReason(log)).toBe('listen_failed: EADDRINUSE');
      fs.appendFileSync(log, 'Error: Cannot find module x\n');
      expect(lastLogReason(log)).toBe('Error: Cannot find module x');
      expect(describeExit(1, null)).toBe('exit 1');
      expect(describeExit(null, 'SIGKILL')).toBe('killed by SIGKILL');
    } finally {
      dir.cleanup();
    }
  });
});

describe('budget forecast and money', () => {
  const row = (window: string, windowS: number, spend: number, max: number, lastHour: number | null): BudgetRow => ({
    scope: 'model', target: 'm', max_budget_usd: max, budget_window: window, window_seconds: windowS, action: 'warn',
    spend_usd: spend, remaining_usd: Math.max(0, max - spend), exceeded: spend >= max, lastHourSpendUsd: lastHour,
  });
  const say = (r: BudgetRow) => forecastText(forecast(r), true);
  it('says "exceeds" only when the rolling window will pass its limit at this rate, within one window', () => {
    // 1 h window at $0.50/h against $1: tends to $0.50, never out (it said "runs out in ~2089d")
    expect(say(row('1h', 3600, 0.5, 1, 0.5))).toBe('holds at this rate');
    expect(say(row('1d', 86400, 8.5, 10, 3))).toBe('exceeds in ~30m');
    expect(say(row('1d', 86400, 1, 10, 0.4))).toBe('holds at this rate'); // 0.4 × 24 = 9.6 < 10
    expect(say(row('1d', 86400, 1, 10, 0.5))).toBe('exceeds in ~18h'); // 12 > 10: 9 left at 0.5/h
    expect(say(row('1h', 3600, 0.9, 1, 2))).toBe('exceeds in ~3m');
    expect(say(row('1d', 86400, 10, 10, 1))).toBe('EXCEEDED');
    expect(say(row('1d', 86400, 1, 10, 0))).toBe('no spend in the last hour');
    expect(say(row('1d', 86400, 1, 10, null))).toBe('–');
    expect(say(row('1h', 3600, 0.00005, 0.0001, 0.0002))).toBe('exceeds in ~15m');
  });
  it('writes money with the digits the limit needs', () => {
    expect(moneyPair(0.0123, 0.05)).toBe('$0.0123/$0.0500');
    expect(moneyPair(12, 10)).toBe('$12.00/$10.00');
    expect(moneyPair(0.04, 0.02)).toBe('$0.0400/$0.0200');
    expect(moneyPair(0.00005, 0.0001)).toBe('$0.000050/$0.000100');
    expect(moneyPair(150, 1000)).toBe('$150.00/$1000.00');
  });
});
