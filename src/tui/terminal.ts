// The terminal around the dashboard: alternate screen and hidden cursor on entry, and the
// exact opposite on every way out (q, Ctrl-C, SIGTERM, SIGHUP, a crash), so the operator's
// shell is never left on a blank screen without a cursor.
export const ENTER_ALT_SCREEN = '\x1b[?1049h';
export const LEAVE_ALT_SCREEN = '\x1b[?1049l';
export const HIDE_CURSOR = '\x1b[?25l';
export const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_AND_HOME = '\x1b[2J\x1b[H';

export class TerminalSession {
  private active = false;

  constructor(
    private readonly stdout: NodeJS.WriteStream,
    private readonly stdin: NodeJS.ReadStream,
  ) {
    // A terminal that went away (SIGHUP) turns writes into EIO/EPIPE errors; they must not crash us.
    stdout.on('error', () => {});
  }

  enter(): void {
    if (this.active) return;
    this.active = true;
    // Raw mode now, not when Ink's input hook mounts a moment later: a Ctrl-C typed while the
    // first frame draws must reach the quit path, not kill the process group with SIGINT.
    try {
      if (this.stdin.isTTY) this.stdin.setRawMode(true);
    } catch {
      // not a terminal after all: Ink reports that itself
    }
    this.write(ENTER_ALT_SCREEN + HIDE_CURSOR + CLEAR_AND_HOME);
  }

  /** Idempotent and synchronous: safe from signal handlers and `uncaughtException`. */
  restore(): void {
    if (!this.active) return;
    this.active = false;
    try {
      if (this.stdin.isTTY) this.stdin.setRawMode(false);
    } catch {
      // stdin already closed
    }
    this.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  }

  private write(s: string): void {
    try {
      this.stdout.write(s);
    } catch {
      // the terminal is gone; nothing left to restore
    }
  }
}

export type ExitReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'fatal'; error: unknown };

/**
 * Route every way the process can end through `onExit`: termination signals ask for the
 * normal quit path; uncaught errors call it too (it must restore the terminal synchronously
 * before anything async). Returns the uninstaller.
 */
export function installExitHandlers(onExit: (reason: ExitReason) => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => onExit({ kind: 'signal', signal });
  const onFatal = (error: unknown) => onExit({ kind: 'fatal', error });
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  };
}
