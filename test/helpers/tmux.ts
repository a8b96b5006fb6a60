// The real dashboard in a real terminal: a detached tmux session on its own server socket
// (`-L`), driven with send-keys and read with capture-pane. Waits poll the screen until a
// condition holds or a generous timeout passes; nothing here sleeps a fixed time to assert.
//
//   const t = await startTmux({ argv: ['node', 'bin/ptui', '--home', home], env });
//   await t.waitForText('6 Requests');
//   t.sendKeys('q');
//   await t.waitForExit();
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './config.js';
import { hasTool, TOOLS } from './tools.js';

export interface TmuxOptions {
  /** the program and its arguments, run without a shell */
  argv: string[];
  /** the complete environment of the program (nothing is inherited; TERM is added) */
  env: Record<string, string>;
  columns?: number;
  rows?: number;
  cwd?: string;
}

export interface TmuxSession {
  socket: string;
  /** the screen as text (`-e`: with colour escapes) */
  capture(opts?: { escapes?: boolean }): string;
  sendKeys(...keys: string[]): void;
  /** a tmux format for the pane, e.g. '#{alternate_on}' */
  display(format: string): string;
  resize(columns: number, rows: number): void;
  /** polls the screen until `what` is on it; throws with the last screen on timeout */
  waitForText(what: string | RegExp, timeoutMs?: number): Promise<string>;
  /** polls the screen until `check` returns something truthy */
  waitForScreen<T>(check: (screen: string) => T | null | undefined | false, what: string, timeoutMs?: number): Promise<T>;
  /** waits until the program has exited (the pane stays, live, for inspection); returns its status */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** pid of the program in the pane */
  pid(): number;
  kill(): void;
}

let counter = 0;
const EXIT_MARKER = '[program exited ';

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** tmux runs here; see hasTool for what happens when it does not (CI fails, elsewhere skips). */
export function tmuxAvailable(): boolean {
  return hasTool(TOOLS.tmux);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTmux(opts: TmuxOptions): Promise<TmuxSession> {
  const socket = `ptui-test-${process.pid}-${++counter}`;
  const columns = opts.columns ?? 120;
  const rows = opts.rows ?? 40;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  // `env -i`: the program sees exactly opts.env, CI included: the dashboard must draw live even
  // where CI=true (Ink alone would draw only its last frame there).
  const env = { TERM: 'screen-256color', ...opts.env };
  const program = ['/usr/bin/env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...opts.argv].map(shellQuote).join(' ');
  // The shell outlives the program, so the pane is still a live terminal afterwards: tmux
  // reports cursor and screen modes of a dead pane as off, whatever the program left behind.
  const command = `${program}; echo "${EXIT_MARKER}$?]"; exec sleep 3600`;
  tmux(
    'new-session', '-d', '-x', String(columns), '-y', String(rows), '-s', 'main', '-c', opts.cwd ?? REPO_ROOT, command,
    ';', 'set-option', '-t', 'main', 'status', 'off',
  );

  const session: TmuxSession = {
    socket,
    capture: (o = {}) => tmux('capture-pane', '-p', ...(o.escapes ? ['-e'] : []), '-t', 'main'),
    sendKeys: (...keys) => {
      for (const k of keys) tmux('send-keys', '-t', 'main', k);
    },
    display: (format) => tmux('display-message', '-p', '-t', 'main', format).trim(),
    resize: (c, r) => {
      tmux('resize-window', '-t', 'main', '-x', String(c), '-y', String(r));
    },
    async waitForScreen(check, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      for (;;) {
        screen = session.capture();
        const v = check(screen);
        if (v) return v;
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${screen}`);
        }
        await sleep(50);
      }
    },
    waitForText(what, timeoutMs) {
      const has = (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
      return session.waitForScreen((s) => (has(s) ? s : null), JSON.stringify(String(what)), timeoutMs);
    },
    async waitForExit(timeoutMs = 10_000) {
      const re = new RegExp(`${EXIT_MARKER.replace(/[[\]]/g, '\\$&')}(\\d+)\\]`);
      const m = await session.waitForScreen((s) => re.exec(s), 'the program to exit', timeoutMs);
      return Number(m[1]);
    },
    pid: () => {
      const shell = session.display('#{pane_pid}');
      const out = execFileSync('ps', ['-o', 'pid=', '--ppid', shell], { encoding: 'utf8' }).trim().split('\n')[0];
      const pid = Number(out);
      if (!pid) throw new Error('the program is not running');
      return pid;
    },
    kill: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    },
  };
  return session;
}

/** A directory holding only a `node` link: a PATH on which no nvidia-smi or systemctl exists. */
export function bareBinDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-bin-'));
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

export const FAKE_BIN_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'bin');
export const PTUI_BIN = path.join(REPO_ROOT, 'bin', 'ptui');
