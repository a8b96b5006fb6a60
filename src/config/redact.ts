// What ptui shows instead of a secret. A `${VAR}` is shown by name with whether it is set, never
// its value; credentials inside URLs (user:password@, ?api_key=…) are masked.
import { pureVarRef, VAR_REF_RE, type Env } from './env.js';

export const MASK = '***';

const USERINFO_RE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^@/?#]*)@/;
const SECRET_QUERY_RE = /([?&](?:api[_-]?key|key|token|access[_-]?token|auth|secret|password|passwd|sig|signature)=)[^&#]*/gi;

/** `https://user:pw@host/?api_key=x` -> `https://***@host/?api_key=***`; other strings unchanged. */
export function maskUrlCredentials(s: string): string {
  return s.replace(USERINFO_RE, `$1${MASK}@`).replace(SECRET_QUERY_RE, `$1${MASK}`);
}

export function isVarSet(env: Env, name: string): boolean {
  const v = env[name];
  return v !== undefined && v !== '';
}

/** `${VAR}` -> `${VAR} (set)` / `${VAR} (unset)`, for any string as written in YAML. */
export function annotateVars(raw: string, env: Env): string {
  return raw.replace(VAR_REF_RE, (m, name: string) => `${m} (${isVarSet(env, name) ? 'set' : 'unset'})`);
}

/** A value as written in YAML, safe to print: var references annotated, URL credentials masked. */
export function redactValue(raw: unknown, env: Env): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  return annotateVars(maskUrlCredentials(String(raw)), env);
}

/**
 * A secret field (api_key, master_key): only a pure `${VAR}` is shown, by name; anything written
 * literally is hidden whole, since any part of it may be the secret.
 */
export function redactSecret(raw: unknown, env: Env): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const name = pureVarRef(raw);
  if (name) return `\${${name}} (${isVarSet(env, name) ? 'set' : 'unset'})`;
  return `${MASK} (literal in config file)`;
}

/**
 * Belt and braces for anything printed or written: replace any value of the given variables that
 * made it into the text anyway. Values under 4 characters are skipped (they would match noise).
 */
export function scrubSecretValues(text: string, env: Env, names: Iterable<string>): string {
  let out = text;
  for (const name of names) {
    const v = env[name];
    if (v && v.length >= 4) out = out.split(v).join(MASK);
  }
  return out;
}
