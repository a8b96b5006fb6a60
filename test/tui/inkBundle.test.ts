// The dashboard's bundle adjusts Ink so its caches live across frames and unchanged screen rows
// are not rebuilt (scripts/bundle-console.mjs). What it draws must be what Ink draws: the same
// frames, byte for byte, rendered by Ink from node_modules and by Ink bundled with that plugin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import * as plainInk from 'ink';
import plainReact from 'react';
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
  const term = new Terminal();
  const app = kit.ink.render(scene(kit, steps[0], fresh), { stdout: term as never, debug: true, patchConsole: false, exitOnCtrlC: false });
  for (const step of steps.slice(1)) app.rerender(scene(kit, step, fresh));
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
});
