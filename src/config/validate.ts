// Checks zod cannot make because they span files or touch the disk: references from models to
// providers and capabilities, units claimed twice, secrets written literally, callback modules.
import fs from 'node:fs';
import path from 'node:path';
import { pureVarRef } from './env.js';
import { formatKeyPath, type ConfigProblem } from './problems.js';
import type { Provider } from './schema.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function known(names: string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/**
 * Cross-file references on the `${VAR}`-resolved data, defensively typed because either file may
 * have failed its schema. `providers` / `capabilities` are undefined when their file is unusable.
 */
export function checkReferences(
  file: string,
  mappings: Obj,
  providerNames: string[] | undefined,
  problems: ConfigProblem[],
): void {
  const capabilityNames = isObj(mappings.capabilities) ? Object.keys(mappings.capabilities) : undefined;
  if (!isObj(mappings.models)) return;
  for (const [name, model] of Object.entries(mappings.models)) {
    if (!isObj(model)) continue;
    if (capabilityNames && typeof model.capability === 'string' && !capabilityNames.includes(model.capability)) {
      problems.push({
        file,
        path: formatKeyPath(['models', name, 'capability']),
        message: `unknown capability "${model.capability}" (known: ${known(capabilityNames)})`,
        severity: 'error',
      });
    }
    // Targets and fallbacks share one list of upstreams: a fallback equal to a target would
    // retry the same upstream.
    const seen = new Set<string>();
    for (const list of ['targets', 'fallbacks'] as const) {
      const entries = model[list];
      if (!Array.isArray(entries)) continue;
      entries.forEach((t, i) => {
        if (!isObj(t) || typeof t.provider !== 'string') return;
        if (providerNames && !providerNames.includes(t.provider)) {
          problems.push({
            file,
            path: formatKeyPath(['models', name, list, i, 'provider']),
            message: `unknown provider "${t.provider}" (known: ${known(providerNames)})`,
            severity: 'error',
          });
        }
        const key = `${t.provider}\u0000${String(t.model)}`;
        if (seen.has(key)) {
          problems.push({
            file,
            path: formatKeyPath(['models', name, list, i]),
            message: `duplicate target ${t.provider}/${String(t.model)} (the fallback would retry the same upstream)`,
            severity: 'error',
          });
        }
        seen.add(key);
      });
    }
  }
}

/** The same unit under two provider names would make the Services panel act on it twice. */
export function checkUnits(file: string, providers: Record<string, Provider>, problems: ConfigProblem[]): void {
  const units = new Map<string, string>();
  for (const [name, p] of Object.entries(providers)) {
    if (!p.service) continue;
    const other = units.get(p.service);
    if (other) {
      problems.push({
        file,
        path: formatKeyPath(['providers', name, 'service']),
        message: `unit "${p.service}" is already used by provider "${other}"`,
        severity: 'error',
      });
    } else units.set(p.service, name);
  }
}

/** Secrets belong in the environment (README, "Paths and environment"): a literal key in YAML works, but is flagged. */
export function checkLiteralSecrets(file: string, raw: Obj, keyPaths: PropertyKey[][], problems: ConfigProblem[]): void {
  for (const keyPath of keyPaths) {
    let v: unknown = raw;
    for (const seg of keyPath) v = isObj(v) ? v[seg as string] : undefined;
    if (typeof v === 'string' && v !== '' && !pureVarRef(v)) {
      problems.push({
        file,
        path: formatKeyPath(keyPath),
        message: 'secret written literally in the config file; use ${VAR} and put the value in the environment or .env',
        severity: 'warning',
      });
    }
  }
}

export function checkCallbacks(file: string, home: string, callbacks: string[], problems: ConfigProblem[]): void {
  callbacks.forEach((cb, i) => {
    const full = path.resolve(home, cb);
    let ok = false;
    try {
      ok = fs.statSync(full).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      problems.push({ file, path: formatKeyPath(['callbacks', i]), message: `callback module not found: ${full}`, severity: 'error' });
    }
  });
}
