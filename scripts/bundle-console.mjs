#!/usr/bin/env node
// Build step after tsc (`npm run build`): the dashboard's entry (dist/tui/main.js) and what it
// loads, with Ink and React, bundled by esbuild into dist/console/. Why:
//  - start-up: loading Ink as ~150 separate modules (es-toolkit/compat alone is hundreds) took
//    ~400 ms before the first frame could be drawn; one tree-shaken file loads in about a third;
//  - cost per frame: Ink measures and tokenizes every line of the screen afresh on every frame
//    (its caches live for one frame) and rebuilds every row from per-cell objects. Two of its
//    files are adjusted here so those caches live across frames, bounded, and a row is rebuilt
//    only when what is written to it changed, a row of simple characters without an object per
//    cell (FAST_ROW below), and a text's colour codes are sanitised once, not on every frame;
//    Ink counts widths with the console's textWidth.
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
// A screen row built without an object per cell, for the rows made only of "simple" characters
// (one grapheme and one column each, whatever surrounds them: printable ASCII, Latin-1, general
// punctuation, arrows, maths, box drawing, blocks, shapes, braille) and SGR colour codes: the
// same styles per cell and the same codes between cells as Ink's tokenize, styledCharsFromTokens
// and styledCharsToString give, worked out once per run of cells that share their styles
// instead of once per cell (a cell costs Ink a grapheme segmentation, an object and a style diff
// of three Sets). Any other row (wide or combining characters, emoji, links, clipped or
// overflowing writes) goes Ink's way. Each character is checked against Ink's own tokenizer and
// width the first time it is met.
const FAST_ROW = `const SIMPLE_RANGES = [[0x20, 0x7e], [0xa0, 0xff], [0x2010, 0x2027], [0x2030, 0x205e], [0x2190, 0x22ff], [0x2500, 0x25ff], [0x2800, 0x28ff]];
const simpleChar = new Uint8Array(0x10000); // 0 not checked yet, 1 simple, 2 not
function isSimpleChar(unit, caches) {
    let known = simpleChar[unit];
    if (known === 0) {
        const ch = String.fromCharCode(unit);
        const tokens = tokenize(ch);
        const inRange = SIMPLE_RANGES.some(([lo, hi]) => unit >= lo && unit <= hi);
        known = inRange && tokens.length === 1 && tokens[0].type === 'char' && !tokens[0].fullWidth && caches.getStringWidth(ch) === 1 ? 1 : 2;
        simpleChar[unit] = known;
    }
    return known === 1;
}
const NO_STYLES = [];
const sgrTokens = new Map();
/** The codes of one SGR sequence as Ink's tokenizer reads it, or null if it reads anything else. */
function sgrCodes(sequence) {
    let codes = sgrTokens.get(sequence);
    if (codes === undefined) {
        const tokens = tokenize(sequence);
        codes = tokens.length > 0 && tokens.every(t => t.type === 'ansi') ? tokens : null;
        if (sgrTokens.size > ${WIDTHS_BOUND}) sgrTokens.clear();
        sgrTokens.set(sequence, codes);
    }
    return codes;
}
const lastingRuns = new Map();
/** A line as runs of characters that share their styles ([styles, text, ...]), or null if it is not simple. */
function simpleRuns(line, caches) {
    let runs = lastingRuns.get(line);
    if (runs !== undefined) return runs;
    runs = [];
    let styles = NO_STYLES;
    let from = 0;
    for (let i = 0; i < line.length; i++) {
        const unit = line.charCodeAt(i);
        if (unit === 0x1b) {
            if (line.charCodeAt(i + 1) !== 0x5b) { runs = null; break; }
            let end = i + 2;
            while (end < line.length && /[0-9;]/.test(line[end])) end++;
            if (line[end] !== 'm') { runs = null; break; }
            const codes = sgrCodes(line.slice(i, end + 1));
            if (codes === null) { runs = null; break; }
            if (i > from) runs.push(styles, line.slice(from, i));
            styles = reduceAnsiCodesIncremental(styles, codes);
            i = end;
            from = end + 1;
        } else if (!isSimpleChar(unit, caches)) {
            runs = null;
            break;
        }
    }
    if (runs !== null && line.length > from) runs.push(styles, line.slice(from));
    if (lastingRuns.size > ${ROWS_BOUND}) lastingRuns.clear();
    lastingRuns.set(line, runs);
    return runs;
}
// the codes between two styles depend on their contents only, and a line's styles are kept
// with its runs: worked out once per pair of them
const between = new WeakMap();
function codesBetween(from, to) {
    let fromHere = between.get(from);
    if (fromHere === undefined) {
        fromHere = new WeakMap();
        between.set(from, fromHere);
    }
    let codes = fromHere.get(to);
    if (codes === undefined) {
        codes = ansiCodesToString(from.length === 0 ? to : diffAnsiCodes(from, to));
        fromHere.set(to, codes);
    }
    return codes;
}
function fastRow(width, writes, caches) {
    // the usual row: writes left to right that do not overlap, each a list of runs
    const segments = [];
    let end = 0;
    for (let i = 0; i < writes.length; i += 2) {
        const runs = simpleRuns(writes[i + 1], caches);
        if (runs === null) return undefined;
        const x = writes[i];
        if (x < end) return overlappingRow(width, writes, caches);
        if (x > end) segments.push(NO_STYLES, ' '.repeat(x - end));
        end = x;
        for (let r = 0; r < runs.length; r += 2) {
            segments.push(runs[r], runs[r + 1]);
            end += runs[r + 1].length;
        }
    }
    if (end > width) return undefined;
    if (width === 0) return '';
    if (end < width) segments.push(NO_STYLES, ' '.repeat(width - end));
    // as styledCharsToString: the first cell's codes, then at each change of styles the codes
    // between (none between runs of the same styles), and at the end those that close the last
    let out = ansiCodesToString(segments[0]);
    for (let k = 0; k < segments.length; k += 2) {
        out += segments[k + 1];
        out += codesBetween(segments[k], k + 2 < segments.length ? segments[k + 2] : NO_STYLES);
    }
    return out.trimEnd();
}
/** A row whose writes overlap (a later one covers part of an earlier one): cell by cell. */
function overlappingRow(width, writes, caches) {
    const cellStyles = new Array(width).fill(NO_STYLES);
    const cellText = new Array(width).fill(' ');
    for (let i = 0; i < writes.length; i += 2) {
        const runs = simpleRuns(writes[i + 1], caches);
        if (runs === null) return undefined;
        let x = writes[i];
        if (x < 0) return undefined;
        for (let r = 0; r < runs.length; r += 2) {
            const text = runs[r + 1];
            if (x + text.length > width) return undefined;
            for (let c = 0; c < text.length; c++, x++) {
                cellStyles[x] = runs[r];
                cellText[x] = text[c];
            }
        }
    }
    if (width === 0) return '';
    let out = ansiCodesToString(cellStyles[0]);
    let from = 0;
    for (let x = 1; x <= width; x++) {
        if (x < width && cellStyles[x] === cellStyles[from]) continue;
        out += cellText.slice(from, x).join('');
        out += codesBetween(cellStyles[from], x < width ? cellStyles[x] : NO_STYLES);
        from = x;
    }
    return out.trimEnd();
}`;
// Ink's Output.get, the same steps, except that a screen row is built from its cells only when
// the writes that reach it (position and text) differ from those of a row built before: most
// rows of a frame are the rows of the frame before, and building one costs a cell object and an
// ANSI diff per column. Kept in output.js's own scope (sliceAnsi, styledCharsToString).
const ROWS_GET = `const lastingRows = new Map();
${FAST_ROW}
function buildRow(width, writes, caches) {
    const fast = fastRow(width, writes, caches);
    if (fast !== undefined) return fast;
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
        for (let index = 0; index < lines.length; index++) {
            let line = lines[index];
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

/** The code of \`name\`(text): \`compute\`(text), kept per text (bounded). */
const memoOfText = (name, compute) => `const ${name}Kept = new Map();
const ${name} = (text) => {
    let value = ${name}Kept.get(text);
    if (value === undefined) {
        if (${name}Kept.size > ${WIDTHS_BOUND}) ${name}Kept.clear();
        value = ${compute}(text);
        ${name}Kept.set(text, value);
    }
    return value;
};`;

const INK_PATCHES = {
  'ink/build/output.js': [
    ["import { styledCharsFromTokens, styledCharsToString, tokenize, } from '@alcalzone/ansi-tokenize';", "import { styledCharsFromTokens, styledCharsToString, tokenize, reduceAnsiCodesIncremental, diffAnsiCodes, ansiCodesToString } from '@alcalzone/ansi-tokenize';"],
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
  // Ink keeps only the colour codes of a text, tokenizing it to find them, each time a text
  // node is squashed: every styled text on screen, on every frame. The same text gives the same
  // answer: kept (bounded).
  'ink/build/sanitize-ansi.js': [
    [
      'export default sanitizeAnsi;',
      `${memoOfText('sanitized', 'sanitizeAnsi')}
export default sanitized;`,
    ],
  ],
  'ink/build/render-node-to-output.js': [
    [
      "import widestLine from 'widest-line';",
      `import widestLineUncached from 'widest-line';
${memoOfText('widestLine', 'widestLineUncached')}`,
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
