// The dashboard's bundle adjusts Ink so its caches live across frames and unchanged screen rows
// are not rebuilt (scripts/bundle-console.mjs). What it draws must be what Ink draws: the same
// frames, byte for byte, rendered by Ink from node_modules and by Ink bundled with that plugin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import fc from 'fast-check';
import * as plainInk from 'ink';
import plainReact from 'react';
import type React from 'react';
// @ts-expect-error a build script without types
import { BUNDLE_OPTIONS } from '../../scripts/bundle-console.mjs';

type InkModule = typeof plainInk;
type ReactModule = typeof plainReact;
interface Kit {
  ink: InkModule;
  React: ReactModule;
}

class Terminal extends EventEmitter {
  frames: string[] = [];
  columns = 60;
  rows = 20;
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
}

/** Frames that exercise what the adjusted code does: colours, wide characters, rows shared by boxes, clipping, borders, wrapping. */
function scene(kit: Kit, step: number, fresh = false) {
  const { Box, Text } = kit.ink;
  const h = kit.React.createElement;
  const rows = Array.from({ length: 6 }, (_, i) => (step + i) % 9);
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true, color: 'cyan' }, `title ${step % 3} `, h(Text, { dimColor: true }, '· clock'), h(Text, { inverse: step % 2 === 0 }, ' sel ')),
    h(
      Box,
      { flexDirection: 'row' },
      h(Box, { width: 30, flexDirection: 'column' }, ...rows.map((r) => h(Text, { key: r, wrap: 'truncate', color: r % 2 ? 'green' : 'red' }, `row ${r} ${'█▇▆'.repeat(r % 4)} 日本 ${fresh ? step : r}`))),
      h(Box, { width: 1 }),
      h(Box, { width: 20, overflow: 'hidden', flexDirection: 'column' }, h(Text, null, `wide 😀 ${step} ${'x'.repeat(30)}`), h(Text, { color: 'yellow' }, 'e\u0301 combining')),
    ),
    h(Box, { borderStyle: 'round', width: 40 }, h(Text, null, `boxed ${step % 2 ? 'odd' : 'even'} line that wraps around the border of its box`)),
    h(Text, { wrap: 'truncate-middle' }, `${'m'.repeat(40)} ${step} ${'n'.repeat(40)}`),
  );
}

function frames(kit: Kit, steps: number[], fresh = false): string[] {
  return framesOf(kit, steps.map((step) => (k: Kit) => scene(k, step, fresh)));
}

function framesOf(kit: Kit, scenes: Array<(kit: Kit) => React.ReactElement>): string[] {
  const term = new Terminal();
  const app = kit.ink.render(scenes[0](kit), { stdout: term as never, debug: true, patchConsole: false, exitOnCtrlC: false });
  for (const next of scenes.slice(1)) app.rerender(next(kit));
  app.unmount();
  return term.frames;
}

let dir: string;
let bundled: Kit;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-ink-bundle-'));
  const entry = path.join(dir, 'entry.mjs');
  fs.writeFileSync(entry, "export * as ink from 'ink';\nexport { default as React } from 'react';\n");
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: { kit: entry },
    outdir: dir,
    splitting: false,
    sourcemap: false,
    // the entry lives outside the package: let its bare imports resolve from ours
    nodePaths: [path.resolve('node_modules')],
  });
  bundled = (await import(path.join(dir, 'kit.js'))) as Kit;
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the bundled Ink', () => {
  it('draws the frames Ink draws, byte for byte', () => {
    // back and forth, so that rows come from the lasting caches as well as fresh
    const steps = [0, 1, 2, 1, 0, 3, 3, 4, 0];
    const expected = frames({ ink: plainInk, React: plainReact }, steps);
    const got = frames(bundled, steps);
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    // the scene did change between frames, so both the cached and the fresh paths ran
    expect(new Set(expected).size).toBeGreaterThan(3);
  });

  it('still draws them when its bounded caches have been cleared, again and again', () => {
    // every step draws new lines (six rows, the wide line, the cut one; some steps come back):
    // thousands of texts, more than any bound holds, so each cache is cleared several times
    const steps = Array.from({ length: 700 }, (_, i) => (i % 2 ? i * 7 : i % 50));
    expect(frames(bundled, steps, true)).toEqual(frames({ ink: plainInk, React: plainReact }, steps, true));
  });

  it('draws any mix of plain, box-drawing, wide and combining characters, colours and raw escape codes as Ink does', () => {
    // rows of simple characters take the bundle's own way, any other goes Ink's: both must give Ink's bytes
    const piece = fc.oneof(
      fc.constantFrom('a', 'Z', '0', ' ', '  ', 'x'.repeat(30), '-', '|', '%', '$', '─', '━', '│', '█', '▏', '▁', '▇', '°', '·', '…', '→', '≤', 'é', 'ñ', '⣿', '●'),
      fc.constantFrom('日', '😀', 'e\u0301', '\u200d', '\ufe0f', '\u00ad', '\t', '\x1b[31m', '\x1b[1;4m', '\x1b[m', '\x1b[0m', '\x1b[38;5;120m', '\x1b[', '\x1b[9x', '\x1b]8;;x\x07', '\x9b1m'),
    );
    const text = fc.array(piece, { maxLength: 14 }).map((p) => p.join(''));
    const style = fc.record({
      color: fc.constantFrom(undefined, 'red', 'green', '#ff8800'),
      bold: fc.boolean(),
      dimColor: fc.boolean(),
      inverse: fc.boolean(),
    });
    const span = fc.tuple(style, text);
    const line = fc.record({ spans: fc.array(span, { minLength: 1, maxLength: 4 }), wrap: fc.constantFrom('truncate', 'wrap') as fc.Arbitrary<'truncate' | 'wrap'>, width: fc.oneof(fc.constant(60), fc.integer({ min: 1, max: 60 })) });
    // a row holds one to three boxes side by side (several writes to one screen row), and may
    // have a box laid over it at some column (writes that overlap)
    const row = fc.record({ boxes: fc.array(line, { minLength: 1, maxLength: 3 }), over: fc.option(fc.tuple(fc.integer({ min: 0, max: 50 }), line)) });
    const screen = fc.array(row, { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(fc.array(screen, { minLength: 1, maxLength: 3 }), (screens) => {
        const draw = (lines: (typeof screens)[number]) => (kit: Kit) => {
          const { Box, Text } = kit.ink;
          const h = kit.React.createElement;
          return h(
            Box,
            { flexDirection: 'column', width: 60 },
            ...lines.map((r, i) => {
              const box = (l: (typeof r.boxes)[number], key: string | number, extra: Record<string, unknown> = {}) =>
                h(Box, { key, width: l.width, overflow: i % 2 ? 'hidden' : 'visible', ...extra }, h(Text, { wrap: l.wrap }, ...l.spans.map(([st, t], j) => h(Text, { key: j, ...st }, t))));
              const over = r.over ? [box(r.over[1], 'over', { position: 'absolute', marginLeft: r.over[0] })] : [];
              return h(Box, { key: i, flexDirection: 'row', width: 60 }, ...r.boxes.map((b, j) => box(b, j, { flexShrink: 0 })), ...over);
            }),
          );
        };
        const scenes = screens.map(draw);
        expect(framesOf(bundled, scenes)).toEqual(framesOf({ ink: plainInk, React: plainReact }, scenes));
      }),
      { numRuns: 300 },
    );
  });
});
