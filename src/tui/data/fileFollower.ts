// The gateway-log view's source: a file followed like `tail -F`. It starts with the file's last
// lines, then reads what is appended, polling (a stat per tick: cheap, and it works where file
// watches do not). Rotation (the name now points at another inode) is followed: the old file is
// read to its end, then the new one from its start; a truncated file is read again from its
// start; a deleted one is waited for. Each tick reads a bounded amount: a file that grew by more
// is skipped forward to its last part, and the view says so.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from '../../system/nvidia-smi.js';
import type { Tone } from '../contexts/ThemeContext.js';
import { LineFollower, FOLLOW_LIMITS, type FollowLimits } from './lineFollower.js';

export interface FileFollowerOptions {
  file: string;
  format: (line: string) => { text: string; tone: Tone | null };
  pollMs?: number;
  /** how much of the end of the file is read on open, and after a skip */
  tailBytes?: number;
  /** a backlog larger than this is skipped down to `tailBytes` */
  maxBacklogBytes?: number;
  limits?: FollowLimits;
  /** what the view says while the file does not exist */
  missingNote?: string;
}

const READ_CHUNK = 64 * 1024;
const MAX_LINE_CHARS = 64 * 1024;

interface Opened {
  fd: number;
  ino: number;
  dev: number;
  pos: number;
  decoder: StringDecoder;
  splitter: LineSplitter;
}

export class FileFollower extends LineFollower {
  private readonly o: Required<Omit<FileFollowerOptions, 'limits'>>;
  private timer: NodeJS.Timeout | null = null;
  private cur: Opened | null = null;
  private everOpened = false;

  constructor(opts: FileFollowerOptions) {
    super(opts.limits ?? FOLLOW_LIMITS);
    this.o = {
      pollMs: 250,
      tailBytes: 256 * 1024,
      maxBacklogBytes: 4 * 1024 * 1024,
      missingNote: `${opts.file} does not exist (yet): waiting for it`,
      ...opts,
    };
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.killNow();
  }

  killNow(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.close(false);
  }

  /** One look at the file: reopen if it was replaced, re-read if truncated, read what is new. */
  tick(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.o.file);
    } catch {
      if (this.cur) {
        this.close(true);
        this.report('following', `${this.o.file} was deleted: waiting for it to come back`);
      } else if (!this.everOpened) this.report('following', this.o.missingNote);
      return;
    }
    if (this.cur && (st.ino !== this.cur.ino || st.dev !== this.cur.dev)) {
      this.close(true); // rotated: what the old file still had, then the new one
      this.open(0, `${this.o.file} was replaced (rotated): following the new file`);
    } else if (!this.cur) {
      const again = this.everOpened;
      this.open(again ? 0 : Math.max(0, st.size - this.o.tailBytes), again ? `${this.o.file} is back: following it` : null);
    } else if (st.size < this.cur.pos) {
      this.cur.pos = 0;
      this.cur.splitter = new LineSplitter(MAX_LINE_CHARS);
      this.cur.decoder = new StringDecoder('utf8');
      this.report('following', `${this.o.file} was truncated: reading it from the start`);
    }
    if (this.cur) this.readNew(st.size);
    this.flush(); // a tick's lines at once: ticks are paced already
  }

  private open(from: number, note: string | null): void {
    let fd: number;
    try {
      fd = fs.openSync(this.o.file, 'r');
    } catch (e) {
      this.report('following', `cannot read ${this.o.file}: ${(e as Error).message}`);
      return;
    }
    const real = fs.fstatSync(fd); // the inode opened, which may differ from the one stat saw
    this.cur = { fd, ino: real.ino, dev: real.dev, pos: from, decoder: new StringDecoder('utf8'), splitter: new LineSplitter(MAX_LINE_CHARS) };
    // started within a line: that first, partial line is not shown
    if (from > 0) this.skipToNextLine();
    this.everOpened = true;
    this.report('following', note);
  }

  private skipToNextLine(): void {
    const cur = this.cur!;
    const buf = Buffer.alloc(4096);
    for (;;) {
      const n = fs.readSync(cur.fd, buf, 0, buf.length, cur.pos);
      if (n === 0) return;
      const nl = buf.subarray(0, n).indexOf(0x0a);
      if (nl !== -1) {
        cur.pos += nl + 1;
        return;
      }
      cur.pos += n;
    }
  }

  /** Reads from the position to `size` (the end as stat saw it), a bounded amount. */
  private readNew(size: number): void {
    const cur = this.cur!;
    if (size - cur.pos > this.o.maxBacklogBytes) {
      const skipped = size - this.o.tailBytes - cur.pos;
      cur.pos = size - this.o.tailBytes;
      cur.splitter = new LineSplitter(MAX_LINE_CHARS);
      cur.decoder = new StringDecoder('utf8');
      this.skipToNextLine();
      this.report('following', `skipped ${Math.round(skipped / 1024)} KiB written faster than the view reads`);
    }
    this.drain(cur, size);
  }

  private drain(cur: Opened, until: number): void {
    const buf = Buffer.alloc(READ_CHUNK);
    while (cur.pos < until) {
      const n = fs.readSync(cur.fd, buf, 0, Math.min(buf.length, until - cur.pos), cur.pos);
      if (n === 0) break;
      cur.pos += n;
      for (const line of cur.splitter.push(cur.decoder.write(buf.subarray(0, n)))) this.ingest(line);
    }
  }

  /** Stops reading the open file; `drain`: first what it still holds past the position. */
  private close(drain: boolean): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = null;
    try {
      if (drain) {
        const end = Math.min(fs.fstatSync(cur.fd).size, cur.pos + this.o.maxBacklogBytes);
        this.drain(cur, end);
        for (const line of cur.splitter.push(cur.decoder.end())) this.ingest(line);
        for (const line of cur.splitter.flush()) this.ingest(line);
      }
    } finally {
      fs.closeSync(cur.fd);
    }
  }

  private ingest(line: string): void {
    if (line.trim() === '') return;
    const { text, tone } = this.o.format(line);
    this.add(text, tone);
  }
}
