#!/usr/bin/env node
// Build step after tsc (`npm run build`): the dashboard's entry (dist/tui/main.js) and what it
// loads, with Ink and React, bundled by esbuild into dist/console/. Why:
//  - start-up: loading Ink as ~150 separate modules (es-toolkit/compat alone is hundreds) took
//    ~400 ms before the first frame could be drawn; one tree-shaken file loads in about a third;
//  - cost per frame: Ink measures and tokenizes every line of the screen afresh on every frame
//    (its caches live for one frame) and rebuilds every row from per-cell objects. Two of its
//    files are adjusted here so those caches live across frames, bounded, and a row is rebuilt
//    only when what is written to it changed; Ink counts widths with the console's textWidth.
//    What is drawn is byte for byte the same (test/tui/inkBundle.test.ts).
// Dynamic imports stay separate chunks, so what the dashboard loads after its first frame
// (the collectors, SQLite) still loads after it. Packages with native parts or their own
// loaders stay outside the bundle and resolve from node_modules as before.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const OUT_DIR = path.join(ROOT, 'dist', 'console');

/** Bare imports of our own code that go into the bundle; every other package stays external. */
const BUNDLED = new Set(['ink', 'react', 'react/jsx-runtime', 'string-width', 'zod', 'yaml']);
const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

// Ink's cache of measured lines and tokenized cells lives for one frame; these make it live
// across frames, each cleared when it grows past its bound (a clock's line is new every second,
// and with requests flowing every row of the Requests panel is new every frame). A screen holds
// a few dozen lines: the bounds keep several screens' worth. A tokenized line is an object per
// character, so that cache is the smallest.
const LINES_BOUND = 256;
const ROWS_BOUND = 512;
const WIDTHS_BOUND = 4096;
// Ink's Output.get, the same steps, except that a screen row is built from its cells only when
// the writes that reach it (position and text) differ from those of a row built before: most
// rows of a frame are the rows of the frame before, and building one costs a cell object and an
// ANSI diff per column. Kept in output.js's own scope (sliceAnsi, styledCharsToString).
const ROWS_GET = `const lastingRows = new Map();
function buildRow(width, writes, caches) {
    const currentLine = [];
    for (let x = 0; x < width; x++) {
        currentLine.push({ type: 'char', value: ' ', fullWidth: false, styles: [] });
    }
    for (let i = 0; i < writes.length; i += 2) {
        let offsetX = writes[i];
        for (const character of caches.getStyledChars(writes[i + 1])) {
            currentLine[offsetX] = character;
            const characterWidth = Math.max(1, caches.getStringWidth(character.value));
            for (let index = 1; index < characterWidth; index++) {
                currentLine[offsetX + index] = { type: 'char', value: '', fullWidth: false, styles: character.styles };
            }
            offsetX += characterWidth;
        }
    }
    return styledCharsToString(currentLine.filter(item => item !== undefined)).trimEnd();
}
Output.prototype.get = function get() {
    const rows = [];
    for (let y = 0; y < this.height; y++) rows.push([]);
    const clips = [];
    for (const operation of this.operations) {
        if (operation.type === 'clip') clips.push(operation.clip);
        if (operation.type === 'unclip') clips.pop();
        if (operation.type !== 'write') continue;
        const { text, transformers } = operation;
        let { x, y } = operation;
        let lines = text.split('\\n');
        const clip = clips.at(-1);
        if (clip) {
            const clipHorizontally = typeof clip?.x1 === 'number' && typeof clip?.x2 === 'number';
            const clipVertically = typeof clip?.y1 === 'number' && typeof clip?.y2 === 'number';
            if (clipHorizontally) {
                const width = this.caches.getWidestLine(text);
                if (x + width < clip.x1 || x > clip.x2) continue;
            }
            if (clipVertically) {
                const height = lines.length;
                if (y + height < clip.y1 || y > clip.y2) continue;
            }
            if (clipHorizontally) {
                lines = lines.map(line => {
                    const from = x < clip.x1 ? clip.x1 - x : 0;
                    const width = this.caches.getStringWidth(line);
                    const to = x + width > clip.x2 ? clip.x2 - x : width;
                    return sliceAnsi(line, from, to);
                });
                if (x < clip.x1) x = clip.x1;
            }
            if (clipVertically) {
                const from = y < clip.y1 ? clip.y1 - y : 0;
                const height = lines.length;
                const to = y + height > clip.y2 ? clip.y2 - y : height;
                lines = lines.slice(from, to);
                if (y < clip.y1) y = clip.y1;
            }
        }
        let offsetY = 0;
        for (let [index, line] of lines.entries()) {
            const row = rows[y + offsetY];
            if (!row) continue;
            for (const transformer of transformers) line = transformer(line, index);
            row.push(x, line);
            offsetY++;
        }
    }
    const output = [];
    for (const writes of rows) {
        let key = String(this.width);
        for (let i = 0; i < writes.length; i += 2) key += ' ' + writes[i] + ',' + writes[i + 1].length + ':' + writes[i + 1];
        let row = lastingRows.get(key);
        if (row === undefined) {
            if (lastingRows.size > ${ROWS_BOUND}) lastingRows.clear();
            row = buildRow(this.width, writes, this.caches);
            lastingRows.set(key, row);
        }
        output.push(row);
    }
    return { output: output.join('\\n'), height: output.length };
};`;

const INK_PATCHES = {
  'ink/build/output.js': [
    ['caches = new OutputCaches();', 'caches = lastingOutputCaches();'],
    [
      '//# sourceMappingURL=output.js.map',
      `const lasting = new OutputCaches();
function lastingOutputCaches() {
    if (lasting.styledChars.size > ${LINES_BOUND}) lasting.styledChars.clear();
    for (const m of [lasting.widths, lasting.blockWidths]) if (m.size > ${WIDTHS_BOUND}) m.clear();
    return lasting;
}
${ROWS_GET}`,
    ],
  ],
  // Ink's own caches of text measures and cut lines keep every text it ever drew (a leak with
  // requests flowing): bounded like the others
  'ink/build/measure-text.js': [
    ['    cache.set(text, dimensions);', `    if (cache.size > ${WIDTHS_BOUND}) cache.clear();\n    cache.set(text, dimensions);`],
  ],
  'ink/build/wrap-text.js': [
    ['const cache = {};', 'let cache = {};\nlet cached = 0;'],
    ['    cache[cacheKey] = wrappedText;', `    if (++cached > ${WIDTHS_BOUND}) {\n        cache = {};\n        cached = 1;\n    }\n    cache[cacheKey] = wrappedText;`],
  ],
  'ink/build/render-node-to-output.js': [
    [
      "import widestLine from 'widest-line';",
      `import widestLineUncached from 'widest-line';
const widths = new Map();
const widestLine = (text) => {
    let w = widths.get(text);
    if (w === undefined) {
        if (widths.size > ${WIDTHS_BOUND}) widths.clear();
        w = widestLineUncached(text);
        widths.set(text, w);
    }
    return w;
};`,
    ],
  ],
};

export const consolePlugin = {
  name: 'ptui-console',
  setup(b) {
    // Ink loads its devtools bridge only when DEV=true; the dashboard never runs that way.
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'ptui-empty' }));
    b.onLoad({ filter: /.*/, namespace: 'ptui-empty' }, () => ({ contents: 'export default {};', loader: 'js' }));
    // Ink and its helpers measure every changed line with string-width; the console's own
    // count gives the same numbers and skips string-width's per-character work on the usual lines.
    // (only where the import means the string-width the console depends on: another version
    // stays itself)
    // (compared as real paths: esbuild resolves through a symlinked node_modules)
    const ownStringWidth = fs.realpathSync(path.join(ROOT, 'node_modules', 'string-width', 'index.js'));
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.asIs || !args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { asIs: true } });
      return resolved.path && fs.realpathSync(resolved.path) === ownStringWidth ? { path: path.join(ROOT, 'dist', 'tui', 'presentation', 'textWidth.js') } : undefined;
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const fromPackage = args.importer.includes(`${path.sep}node_modules${path.sep}`);
      return fromPackage || BUNDLED.has(packageName(args.path)) ? undefined : { path: args.path, external: true };
    });
    // React picks its development or production build by NODE_ENV when first loaded; the
    // dashboard always runs production (see src/tui/main.tsx), so only that one is bundled.
    b.onLoad({ filter: /node_modules[\\/](react|react-reconciler|scheduler)[\\/][\w-]+\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      return { contents: source.replaceAll('process.env.NODE_ENV', '"production"'), loader: 'js' };
    });
    const files = Object.keys(INK_PATCHES).join('|').replaceAll('.', '\\.').replaceAll('/', '[\\\\/]');
    b.onLoad({ filter: new RegExp(`node_modules[\\\\/](${files})$`) }, async (args) => {
      let source = await fs.promises.readFile(args.path, 'utf8');
      const key = Object.keys(INK_PATCHES).find((k) => args.path.replaceAll('\\', '/').endsWith(k));
      for (const [from, to] of INK_PATCHES[key]) {
        // an Ink upgrade that moved these lines must fail the build, not go slow unnoticed
        if (!source.includes(from)) throw new Error(`bundle-console: ${key} no longer contains ${JSON.stringify(from)}`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

/** The esbuild options of the dashboard's bundle (a test bundles Ink alone with the same plugin). */
export const BUNDLE_OPTIONS = {
  entryPoints: { main: path.join(ROOT, 'dist', 'tui', 'main.js') },
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS inside the bundle (React) calls require for Node's own modules
  banner: { js: "import { createRequire as __ptuiRequire } from 'node:module'; const require = __ptuiRequire(import.meta.url);" },
  plugins: [consolePlugin],
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // chunk names change with their content: last build's chunks must not pile up
  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  await build(BUNDLE_OPTIONS);
}
