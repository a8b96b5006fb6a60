// docs/ARCHITECTURE.md's file map names every file under src/ and nothing else, so the map a
// newcomer reads cannot drift from the tree.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/config.js';

const MAX_SOURCE_LINES = 350;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : [path.relative(REPO_ROOT, p)];
  });
}

function mappedFiles(): string[] {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const start = doc.indexOf('<!-- file-map:start -->');
  const end = doc.indexOf('<!-- file-map:end -->');
  expect(start, 'file-map markers').toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return [...doc.slice(start, end).matchAll(/^- `(src\/[^`]+)`/gm)].map((m) => m[1]);
}

describe('docs/ARCHITECTURE.md', () => {
  it('its file map lists exactly the files under src/', () => {
    const tree = sourceFiles(path.join(REPO_ROOT, 'src')).sort();
    const map = mappedFiles().sort();
    expect({ missingFromMap: tree.filter((f) => !map.includes(f)), notInTree: map.filter((f) => !tree.includes(f)) }).toEqual({
      missingFromMap: [],
      notInTree: [],
    });
  });

  it(`no source file is longer than ${MAX_SOURCE_LINES} lines`, () => {
    const long = sourceFiles(path.join(REPO_ROOT, 'src'))
      .map((f) => ({ f, lines: fs.readFileSync(path.join(REPO_ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_SOURCE_LINES);
    expect(long).toEqual([]);
  });

  it('comments point at documents in the repository, not at specs or issue numbers outside it', () => {
    const offenders = ['src', 'test'].flatMap((d) => sourceFiles(path.join(REPO_ROOT, d)))
      .filter((f) => /\.(ts|tsx|mjs|js)$/.test(f))
      .flatMap((f) =>
        fs.readFileSync(path.join(REPO_ROOT, f), 'utf8').split('\n')
          .map((line, i) => ({ at: `${f}:${i + 1}`, line }))
          .filter(({ line }) => /SPEC \u00a7|issue [0-9]/.test(line)),
      );
    expect(offenders.map((o) => o.at)).toEqual([]);
  });
});
