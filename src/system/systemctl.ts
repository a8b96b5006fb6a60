// systemctl/journalctl argv builders, the pure parser of `systemctl show` output, and the run
// of the periodic `show`. The argv are built here, and only here, as arrays: unit names never
// pass through a shell.
import { execFile } from 'node:child_process';
import type { ServiceVerb } from './types.js';

export type SystemctlScope = 'system' | 'user';

export const SHOW_PROPERTIES = ['LoadState', 'ActiveState', 'SubState', 'MainPID', 'ExecMainStartTimestamp'] as const;

export const SERVICE_VERBS: readonly ServiceVerb[] = ['start', 'stop', 'restart'];

export const JOURNAL_LINES = 200;

function scopeArgs(scope: SystemctlScope): string[] {
  return scope === 'user' ? ['--user'] : [];
}

/** One `systemctl show` for every unit at once: one process per tick, not one per unit. */
export function showArgs(units: readonly string[], scope: SystemctlScope): string[] {
  return [...scopeArgs(scope), 'show', '-p', SHOW_PROPERTIES.join(','), ...units];
}

/** `--no-ask-password` so a missing polkit grant fails at once instead of prompting in the TUI. */
export function actionArgs(verb: ServiceVerb, unit: string, scope: SystemctlScope): string[] {
  return ['--no-ask-password', ...scopeArgs(scope), verb, unit];
}

/** The journal view: the last lines, then each new one as it comes, as JSON (PRIORITY, bytes intact). */
export function journalFollowArgs(unit: string, scope: SystemctlScope): string[] {
  return [...scopeArgs(scope), '-u', unit, '-n', String(JOURNAL_LINES), '-f', '-o', 'json', '--no-pager'];
}

export interface UnitProperties {
  loadState: string | null;
  activeState: string | null;
  subState: string | null;
  mainPid: number | null;
  since: string | null;
}

/**
 * `systemctl show -p … u1 u2` prints one block of Key=value lines per unit, in argument
 * order, separated by a blank line; the keys come in systemd's order, not the -p order.
 */
export function parseShowOutput(output: string): Array<Record<string, string>> {
  const blocks: Array<Record<string, string>> = [];
  let current: Record<string, string> | null = null;
  for (const raw of output.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      current = null;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    if (!current) {
      current = {};
      blocks.push(current);
    }
    current[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return blocks;
}

export function unitProperties(block: Record<string, string>): UnitProperties {
  const pid = Number(block.MainPID);
  return {
    loadState: block.LoadState || null,
    activeState: block.ActiveState || null,
    subState: block.SubState || null,
    mainPid: Number.isInteger(pid) && pid > 0 ? pid : null,
    since: parseSystemdTimestamp(block.ExecMainStartTimestamp),
  };
}

// With LC_ALL=C systemd prints "%a %Y-%m-%d %H:%M:%S %Z", e.g. "Fri 2026-11-27 07:00:00 UTC".
const TIMESTAMP_RE = /^(?:[A-Za-z]{3} )?(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: (\S+))?$/;

/**
 * ISO time, or null for an empty/"n/a" timestamp. Zone abbreviations other than UTC/GMT are
 * ambiguous worldwide (CST, IST), but systemd prints the box's own zone and the dashboard
 * runs on that box, so those are read as local time.
 */
export function parseSystemdTimestamp(raw: string | undefined): string | null {
  if (!raw) return null;
  const s = raw.trim();
  if (s === '' || s === 'n/a' || s === '0') return null;
  if (/^@\d+(\.\d+)?$/.test(s)) return new Date(Number(s.slice(1)) * 1000).toISOString();
  const m = TIMESTAMP_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, '0')) / 1000) : 0;
  const zone = m[8];
  const date =
    zone === undefined || zone === 'UTC' || zone === 'GMT' || zone === 'Z'
      ? new Date(Date.UTC(y, mo - 1, d, h, mi, sec, ms))
      : new Date(y, mo - 1, d, h, mi, sec, ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export interface ShowRun {
  /** no systemctl on PATH */
  notFound: boolean;
  /** null when it was killed (the timeout) or never ran */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * The unit poll's `systemctl show`, through Node's execFile: it runs every few seconds for the
 * whole session, and execa's stream handling cost several times what the spawn itself costs
 * there. The actions, run once each, keep execa. Never rejects.
 */
export function runShow(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ShowRun> {
  return new Promise((resolve) => {
    const child = execFile('systemctl', args, { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: string | number; signal?: string | null }) | null;
      resolve({
        notFound: e?.code === 'ENOENT',
        exitCode: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout: stdout ?? '',
        stderr: stderr ?? '',
      });
    });
    // systemctl show reads nothing: its stdin is closed at once, as with stdin 'ignore'
    child.stdin?.end();
  });
}
