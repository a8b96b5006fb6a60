// Turns zod issues into `file: key.path: message` problems worded for an operator editing YAML
// ("expected number, got string", "unknown key (did you mean "api_base"?)"), not for a developer.
import type { z } from 'zod';
import { formatKeyPath, type ConfigProblem } from './problems.js';
import { maskUrlCredentials } from './redact.js';
import { closest } from './suggest.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}

const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strip wrappers (optional, default, preprocess pipes) down to the schema that holds the shape. */
function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 10; i++) {
    const d = def(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.out) s = def(d.out).type === 'transform' && d.in ? d.in : d.out;
    else return s;
  }
  return s;
}

/** The keys a strict object at `path` allows, found by walking the schema along the path. */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  for (const seg of path) {
    const d = def(s);
    if (d.type === 'object' && d.shape && typeof seg === 'string' && seg in d.shape) s = unwrap(d.shape[seg]);
    else if (d.type === 'record' && d.valueType) s = unwrap(d.valueType);
    else if (d.type === 'array' && d.element) s = unwrap(d.element);
    else return [];
  }
  const d = def(s);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_WORDS: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list' };

export function validateFile<T>(
  file: string,
  schema: z.ZodType<T>,
  value: unknown,
  problems: ConfigProblem[],
  /** key paths that reference a `${VAR}`: their values are never echoed, and "required" names the unset var */
  varPaths: Map<string, { name: string; set: boolean }>,
): T | undefined {
  const res = schema.safeParse(value, { reportInput: true });
  if (res.success) return res.data;
  for (const issue of res.error.issues) {
    const input = (issue as { input?: unknown }).input;
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, allowed);
        const hint = guess ? ` (did you mean "${guess}"?)` : allowed.length ? ` (allowed: ${allowed.join(', ')})` : '';
        problems.push({ file, path: formatKeyPath([...issue.path, key]), message: `unknown key${hint}`, severity: 'error' });
      }
      continue;
    }
    const keyPath = formatKeyPath(issue.path);
    // A value that came from a `${VAR}` may be a secret: name its type, never echo it.
    const got = varPaths.has(keyPath) ? `a ${typeof input} from \${${varPaths.get(keyPath)!.name}}` : describe(input);
    let message = issue.message;
    if (issue.code === 'invalid_type') {
      if (input === undefined) {
        const v = varPaths.get(keyPath);
        message = v && !v.set ? `required, but \${${v.name}} is not set` : 'required';
      } else message = `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${got}`;
    } else if (issue.code === 'invalid_value' && 'values' in issue) {
      message = `must be one of ${issue.values.map((v) => String(v)).join(', ')}; got ${got}`;
    } else if (issue.code === 'too_small' && issue.origin === 'number') {
      message = issue.message.startsWith('Too small') ? `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}` : issue.message;
    } else if (issue.code === 'too_big' && issue.origin === 'number') {
      message = issue.message.startsWith('Too big') ? `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}` : issue.message;
    }
    if ((issue.code === 'invalid_format' || issue.code === 'custom') && typeof input === 'string' && !varPaths.has(keyPath)) {
      message += ` (got "${maskUrlCredentials(input.length > 80 ? `${input.slice(0, 80)}…` : input)}")`;
    }
    problems.push({ file, path: keyPath, message, severity: 'error' });
  }
  return undefined;
}
