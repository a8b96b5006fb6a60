// The environment ptui sees: the process environment over `<home>/.env` (environment wins).
// process.env is not mutated, so a config reload re-reads .env cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export type Env = Readonly<Record<string, string | undefined>>;

export function loadEnv(home: string, processEnv: Env = process.env): Env {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(fs.readFileSync(path.join(home, '.env'), 'utf8')) as Record<string, string>;
  } catch {
    // No .env (or unreadable): the process environment alone.
  }
  return { ...fromFile, ...processEnv };
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
