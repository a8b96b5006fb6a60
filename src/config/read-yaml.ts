// Reads one config file into plain data, turning every way a file can be unusable into a
// problem line instead of an exception: missing, a directory, a FIFO (which would block a
// plain read forever), unreadable, a symlink loop, empty, YAML syntax errors, duplicate keys.
import fs from 'node:fs';
import YAML, { isMap, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import { formatKeyPath, type ConfigProblem } from './problems.js';

/** A config file this large is a mistake (or an attack on the parser), not a config. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export type YamlRead =
  | { status: 'ok'; raw: Record<string, unknown> }
  | { status: 'missing' }
  | { status: 'error' };

const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  EIO: 'I/O error',
};

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && ERRNO_TEXT[code] ? `${ERRNO_TEXT[code]} (${code})` : (e as Error).message) ?? String(e);
}

export function readYamlFile(file: string, fullPath: string, required: boolean, problems: ConfigProblem[]): YamlRead {
  const fail = (message: string): YamlRead => {
    problems.push({ file, path: '', message, severity: 'error' });
    return { status: 'error' };
  };

  let st: fs.Stats;
  try {
    st = fs.statSync(fullPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (required) fail(`required file not found: ${fullPath}`);
      return { status: 'missing' };
    }
    return fail(`cannot read ${fullPath}: ${errnoText(e)}`);
  }
  if (st.isDirectory()) return fail(`${fullPath} is a directory, not a file`);
  if (!st.isFile()) return fail(`${fullPath} is not a regular file (a FIFO, socket or device cannot be a config file)`);
  if (st.size > MAX_CONFIG_BYTES) return fail(`${fullPath} is too large (${st.size} bytes; at most ${MAX_CONFIG_BYTES})`);

  let text: string;
  try {
    text = fs.readFileSync(fullPath, 'utf8');
  } catch (e) {
    return fail(`cannot read ${fullPath}: ${errnoText(e)}`);
  }
  if (text.trim() === '') return fail(`file is empty: ${fullPath}`);

  const lineCounter = new LineCounter();
  // Duplicate keys are found by our own walk below, so they come with a key path and every
  // other problem in the file is still reported.
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      problems.push({
        file,
        path: '',
        line: pos.line,
        col: pos.col,
        message: `YAML syntax error: ${e.message.split('\n')[0]}`,
        severity: 'error',
      });
    }
    return { status: 'error' };
  }
  if (doc.contents === null) return fail(`file is empty (only comments): ${fullPath}`);
  findDuplicateKeys(doc.contents, [], file, lineCounter, problems);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return fail(`cannot load YAML: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(`top level must be a mapping of keys, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  return { status: 'ok', raw: raw as Record<string, unknown> };
}

function findDuplicateKeys(
  node: Node | null | unknown,
  path: PropertyKey[],
  file: string,
  lineCounter: LineCounter,
  problems: ConfigProblem[],
): void {
  if (isMap(node)) {
    const firstLine = new Map<string, number>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const line = keyNode?.range ? lineCounter.linePos(keyNode.range[0]).line : 0;
      const first = firstLine.get(key);
      if (first !== undefined) {
        problems.push({
          file,
          path: formatKeyPath([...path, key]),
          message: `duplicate key "${key}" (line ${line}; first defined at line ${first})`,
          severity: 'error',
        });
      } else firstLine.set(key, line);
      findDuplicateKeys(pair.value, [...path, key], file, lineCounter, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => findDuplicateKeys(item, [...path, i], file, lineCounter, problems));
  }
}
