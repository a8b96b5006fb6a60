// Which processes descend from which: used to attribute a GPU compute app to the systemd
// unit whose MainPID started it (vLLM workers are children of the API server process).
import fs from 'node:fs';

/** Parent pid from /proc/<pid>/stat, or null when the process is gone or unreadable. */
export function readParentPid(pid: number, procRoot = '/proc'): number | null {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain ") ".
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

/**
 * Parent lookups memoised for one tick: several GPU processes of one service share most of
 * their ancestry, and the tree can change between ticks, so a cache lives for one tick only.
 */
export class ParentCache {
  private readonly parents = new Map<number, number | null>();
  constructor(private readonly procRoot = '/proc') {}

  parentOf(pid: number): number | null {
    let p = this.parents.get(pid);
    if (p === undefined) {
      p = readParentPid(pid, this.procRoot);
      this.parents.set(pid, p);
    }
    return p;
  }

  /** The first of `roots` that is pid itself or one of its ancestors. */
  findRoot(pid: number, roots: ReadonlySet<number>): number | null {
    let current: number | null = pid;
    // pid namespaces are at most a few dozen levels deep; the bound guards against cycles.
    for (let depth = 0; current !== null && current > 0 && depth < 128; depth++) {
      if (roots.has(current)) return current;
      if (current === 1) return null;
      current = this.parentOf(current);
    }
    return null;
  }
}
