import { useMemo } from 'react';
import type { GpuState, ServiceState } from '../../system/types.js';
import { ParentCache } from '../../system/proctree.js';

/**
 * pid -> unit for every GPU compute process that is a unit's MainPID or descends from it
 * (vLLM's workers are children of its API server), recomputed only when either side changes.
 */
export function useGpuOwners(gpu: GpuState, services: readonly ServiceState[]): ReadonlyMap<number, string> {
  return useMemo(() => {
    const owners = new Map<number, string>();
    const byPid = new Map<number, string>();
    for (const s of services) if (s.mainPid) byPid.set(s.mainPid, s.unit);
    if (byPid.size === 0 || gpu.processes.length === 0) return owners;
    const roots = new Set(byPid.keys());
    const tree = new ParentCache();
    for (const p of gpu.processes) {
      const root = tree.findRoot(p.pid, roots);
      if (root !== null) owners.set(p.pid, byPid.get(root)!);
    }
    return owners;
  }, [gpu.processes, services]);
}
