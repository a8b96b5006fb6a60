// Environment for running the system collectors against the fake nvidia-smi / systemctl /
// journalctl in test/fixtures/bin (the only faked parts of ptui's tests).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FAKE_BIN = path.join(REPO_ROOT, 'test', 'fixtures', 'bin');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ptui-${prefix}-`));
}

/** process.env with the fakes first on PATH, plus the given knobs. */
export function fakeEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
}

/** Invocation log lines written by the fakes (one JSON object per call). */
export function readLog(file: string): Array<{ pid: number; argv: string[] }> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** pids of live processes whose parent is ppid and whose argv contains every needle. */
export function childrenMatching(ppid: number, needles: string[]): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || Number(fields[1]) !== ppid) continue;
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (needles.every((n) => argv.some((a) => a.includes(n)))) out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}
