// Reads one config file into plain data, turning every way a file can be unusable into a
// problem line instead of an exception: missing, a directory, a FIFO (which would block a
// plain read forever), unreadable, a symlink loop, empty, YAML syntax errors, duplicate keys.
import fs from 'node:fs';
import YAML, { isMap, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import { formatKeyPath, type ConfigProblem } from './problems.js';
import { findIndentMistake } from './yaml-indent.js';

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
  // An optional file that says nothing (empty, or only comments) means "all defaults".
  if (text.trim() === '') return required ? fail(`file is empty: ${fullPath}`) : { status: 'missing' };

  const lineCounter = new LineCounter();
  // Duplicate keys are found by our own walk below, so they come with a key path and every
  // other problem in the file is still reported. `merge` enables `<<: *defaults` merge keys.
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    problems.push(syntaxProblem(file, text, doc.errors[0], lineCounter));
    return { status: 'error' };
  }
  if (doc.contents === null) return required ? fail(`file is empty (only comments): ${fullPath}`) : { status: 'missing' };
  findDuplicateKeys(doc.contents, [], file, lineCounter, problems);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return fail(`cannot load YAML: ${(e as Error).message}`);
  }
  // `---` and comments only: a document with nothing in it.
  if (raw === null || raw === undefined) return required ? fail(`file is empty (only comments): ${fullPath}`) : { status: 'missing' };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(`top level must be a mapping of keys, got ${Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}`);
  }
  return { status: 'ok', raw: withoutExtensionKeys(raw as Record<string, unknown>) };
}

/**
 * One line for a file the parser rejects: the first indentation mistake when there is one
 * (what people get wrong), else the parser's first error. Later parser errors are mostly the
 * cascade of the first, so they are not listed.
 */
function syntaxProblem(file: string, text: string, first: YAML.YAMLError, lineCounter: LineCounter): ConfigProblem {
  const at = lineCounter.linePos(first.pos[0]);
  const indent = findIndentMistake(text);
  // Only a mistake up to the line after the parser's complaint explains it: the parser notices
  // a key indented too deep at the end of the line before.
  if (indent && indent.line <= at.line + 1) {
    return { file, path: '', line: indent.line, col: indent.col, message: `YAML indentation: ${indent.message}`, severity: 'error' };
  }
  return { file, path: '', line: at.line, col: at.col, message: `YAML syntax error: ${first.message.split('\n')[0]}`, severity: 'error' };
}

/**
 * Top-level keys starting with `x-` are a place to keep anchors (`x-defaults: &defaults`) for
 * merge keys, as in docker compose files; they configure nothing and are dropped here.
 */
function withoutExtensionKeys(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
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
