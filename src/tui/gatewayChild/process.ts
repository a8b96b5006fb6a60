// The gateway process itself: started in its own session (setsid) with its output appended to
// the log file, so it outlives the console, an SSH hangup and a crash; and ended by pid, which
// works for one this console started and for one it adopted.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../../config/gateway-flags.js';
import { isProcessAlive } from '../../config/instance-record.js';

/** `detached`: a new session and process group, no controlling terminal; unref'd so the console can exit. */
export function spawnGateway(args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, ...args], { stdio: ['ignore', fd, fd], env, detached: true });
    child.unref();
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

/** Gone, or a zombie nobody reaps yet (in a container, pid 1 may never reap it). */
export function processGone(pid: number): boolean {
  if (!isProcessAlive(pid)) return true;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

// not unref'd: `ptui gateway stop` has nothing else keeping it alive while it waits
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM (the gateway drains its requests in flight), SIGKILL after `graceMs`; resolves once gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!Number.isSafeInteger(pid) || pid <= 1 || processGone(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (!processGone(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      while (!processGone(pid)) await sleep(25);
      break;
    }
    await sleep(25);
  }
  // An exited child of ours stays a zombie until Node reaps it, a moment later: wait for that,
  // so the pid is really free when we say it is stopped.
  const reapBy = Date.now() + 1000;
  while (isProcessAlive(pid) && Date.now() < reapBy) await sleep(10);
}

export function appendLog(logFile: string, fields: Record<string, unknown>): void {
  try {
    fs.appendFileSync(logFile, JSON.stringify({ ts: new Date().toISOString(), level: 'info', ...fields }) + '\n');
  } catch {
    // the log is a convenience; supervision goes on without it
  }
}
