// The environment ptui sees: the process environment over `<home>/.env` (environment wins).
// process.env is not mutated, so a config reload re-reads .env cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export type Env = Readonly<Record<string, string | undefined>>;

export function loadEnv(home: string, processEnv: Env = process.env): Env {
  let fromFile: Record<string, string> = {};
  const file = path.join(home, '.env');
  try {
    // stat first: reading a FIFO named .env would block forever.
    if (fs.statSync(file).isFile()) fromFile = parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // No .env (or unreadable): the process environment alone.
  }
  return { ...fromFile, ...processEnv };
}

/** Why `<home>/.env` exists but was not used (a directory, unreadable), or undefined when fine or absent. */
export function envFileProblem(home: string): string | undefined {
  const file = path.join(home, '.env');
  try {
    if (!fs.statSync(file).isFile()) return `${file} is not a regular file; ignored`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? undefined : `cannot read ${file} (${code}); ignored`;
  }
}

/** `${VAR}` anywhere in a string. */
export const VAR_REF_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Resolve `${VAR}` references; `unset` collects the names that had no value. */
export function interpolate(value: string, env: Env, unset: Set<string>): string {
  return value.replace(VAR_REF_RE, (_m, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') {
      unset.add(name);
      return '';
    }
    return v;
  });
}

/** One `${VAR}` occurrence in a config file, for warnings that say where it is used. */
export interface VarRef {
  name: string;
  file: string;
  /** key path segments of the string that references it */
  path: PropertyKey[];
  set: boolean;
}

/**
 * Resolve `${VAR}` in every string of parsed YAML, recording each reference. A string made only
 * of unset references becomes absent, so an optional `api_key: ${UNSET}` means "no key" and a
 * required field reports "required" (annotated by the caller).
 */
export function resolveVarsDeep(value: unknown, env: Env, file: string, refs: VarRef[], path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const unset = new Set<string>();
    const out = interpolate(value, env, unset);
    for (const m of value.matchAll(VAR_REF_RE)) refs.push({ name: m[1], file, path, set: !unset.has(m[1]) });
    return out === '' && value.replace(VAR_REF_RE, '').trim() === '' ? undefined : out;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveVarsDeep(v, env, file, refs, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolveVarsDeep(v, env, file, refs, [...path, k]);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

/** `${NAME}` and nothing else: the only form that can be exported as LiteLLM's `os.environ/NAME`. */
export function pureVarRef(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(raw.trim());
  return m ? m[1] : undefined;
}
