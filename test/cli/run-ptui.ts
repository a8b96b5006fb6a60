// Runs the built CLI as a child process, the way users and scripts run it.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import path from 'node:path';
import { cleanEnv, REPO_ROOT } from '../helpers/config.js';

export const PTUI_BIN = path.join(REPO_ROOT, 'bin', 'ptui');

export interface PtuiRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into non-empty lines */
  lines: string[];
}

export function runPtui(args: string[], env: Record<string, string> = {}, extra: SpawnSyncOptions = {}): PtuiRun {
  const r = spawnSync(process.execPath, [PTUI_BIN, ...args], {
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
    cwd: extra.cwd ?? REPO_ROOT,
    ...extra,
  });
  if (r.error) throw r.error;
  const stdout = String(r.stdout);
  return { status: r.status, stdout, stderr: String(r.stderr), lines: stdout.split('\n').filter(Boolean) };
}
