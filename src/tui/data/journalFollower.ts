// The journal view's source: one `journalctl -u <unit> -n 200 -f -o json` child for as long as
// the view is open, its entries read as they come (PRIORITY colours them), stopped and reaped
// when the view closes. A journalctl that is missing, refuses or exits says why in the view.
import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter } from '../../system/nvidia-smi.js';
import { parseJournalEntry, type JournalEntry } from '../../system/journal.js';
import { LineFollower, FOLLOW_LIMITS, type FollowLimits } from './lineFollower.js';
import type { Tone } from '../contexts/ThemeContext.js';

/** What runs: built by the services collector, for configured units only. */
export type JournalCommand = { argv: string[]; env: NodeJS.ProcessEnv } | { error: string };

/** an entry as journalctl -o json writes it is a few KiB at most (it leaves out bigger values) */
const MAX_ENTRY_CHARS = 64 * 1024;
const KILL_AFTER_MS = 2000;

export class JournalFollower extends LineFollower {
  private child: ChildProcess | null = null;
  private closed: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly command: JournalCommand,
    private readonly format: (entry: JournalEntry) => { text: string; tone: Tone | null },
    limits: FollowLimits = FOLLOW_LIMITS,
  ) {
    super(limits);
  }

  /** pid of the journalctl child while it runs */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    if (this.child || this.stopping) return;
    if ('error' in this.command) {
      this.report('failed', this.command.error);
      return;
    }
    const [file, ...args] = this.command.argv;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.command.env });
    this.child = child;
    const splitter = new LineSplitter(MAX_ENTRY_CHARS);
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | null = null;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) this.ingest(line);
    });
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 1000) stderr += chunk.slice(0, 1000 - stderr.length);
    });
    child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
    this.closed = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        for (const line of splitter.flush()) this.ingest(line);
        this.child = null;
        resolve();
        if (this.stopping) return;
        const why = stderr.split('\n').find((l) => l.trim() !== '')?.trim();
        if (spawnError) this.report('failed', spawnError.code === 'ENOENT' ? 'journalctl not found' : `journalctl: ${spawnError.message}`);
        else if (code === 0) this.report('ended', 'journalctl ended');
        else this.report('failed', why ?? `journalctl exited with ${code ?? signal}`);
      }),
    );
    this.report('following', null);
  }

  stop(): Promise<void> {
    if (this.stopping) return this.closed;
    this.stopping = true;
    const child = this.child;
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      hard.unref();
      void this.closed.then(() => clearTimeout(hard));
    }
    return this.closed;
  }

  killNow(): void {
    this.stopping = true;
    const child = this.child;
    if (child && child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  }

  private ingest(line: string): void {
    if (line.trim() === '') return;
    const entry = parseJournalEntry(line);
    // not an entry: journalctl's own notices ("-- No entries --", "-- Boot … --") as they are
    if (entry) {
      const { text, tone } = this.format(entry);
      this.add(text, tone);
    } else this.add(line, 'dim');
  }
}
