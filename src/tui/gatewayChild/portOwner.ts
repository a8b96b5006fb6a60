// Which process listens on a TCP port, from /proc: the socket's inode in /proc/net/tcp{,6},
// then the process holding `socket:[inode]` among /proc/*/fd. Only processes we may look into
// (our own user's, or all for root) can be found; null says "could not tell", never "nobody".
import fs from 'node:fs';
import path from 'node:path';

export interface PortOwner {
  pid: number;
  /** /proc/<pid>/comm: what the process calls itself (outside text: cleaned before shown) */
  name: string | null;
}

const LISTEN = '0A';

/** Inodes of sockets listening on `port`, from the text of /proc/net/tcp or tcp6. */
export function listeningInodes(table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== LISTEN) continue;
    if (f[1].split(':')[1] === hexPort && f[9] !== '0') out.push(f[9]);
  }
  return out;
}

export function findPortOwner(port: number, procRoot = '/proc'): PortOwner | null {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    try {
      for (const i of listeningInodes(fs.readFileSync(path.join(procRoot, 'net', table), 'utf8'), port)) inodes.add(i);
    } catch {
      // no IPv6, or no /proc
    }
  }
  if (inodes.size === 0) return null;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  let pids: string[];
  try {
    pids = fs.readdirSync(procRoot).filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(path.join(procRoot, pid, 'fd'));
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(procRoot, pid, 'fd', fd));
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      let name: string | null = null;
      try {
        name = fs.readFileSync(path.join(procRoot, pid, 'comm'), 'utf8').trim();
      } catch {
        // gone meanwhile
      }
      return { pid: Number(pid), name };
    }
  }
  return null;
}

/** "pid 1234 (nginx)", as much as can be told. */
export function describeOwner(owner: PortOwner | null): string {
  if (!owner) return 'pid unknown';
  return `pid ${owner.pid}${owner.name ? ` (${owner.name})` : ''}`;
}
