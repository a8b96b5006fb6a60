import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/config/atomic.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('writeFileAtomic', () => {
  it('creates parent directories, writes, and replaces', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-atomic-'));
    const file = path.join(dir, 'a', 'b', 'out.json');
    writeFileAtomic(file, 'one');
    expect(fs.readFileSync(file, 'utf8')).toBe('one');
    writeFileAtomic(file, Buffer.from('two'));
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['out.json']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  });

  it('on failure throws, keeps what was there, and leaves no temp file', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-atomic-'));
    // rename(2) cannot replace a non-empty directory with a file
    const target = path.join(dir, 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['target']);
    expect(fs.readFileSync(path.join(target, 'keep'), 'utf8')).toBe('x');
  });

  it('a reader in another process never sees a partial file while it is replaced', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-atomic-'));
    const file = path.join(dir, 'f');
    const stop = path.join(dir, 'stop');
    const size = 256 * 1024;
    writeFileAtomic(file, 'a'.repeat(size));
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');let reads=0,bad=0;let first=true;
         while(!fs.existsSync(${JSON.stringify(stop)})){const s=fs.readFileSync(${JSON.stringify(file)},'latin1');reads++;
           if(s.length!==${size}||s[0]!==s[s.length-1])bad++;
           if(first){first=false;fs.writeSync(1,'ready\\n');}}
         fs.writeSync(1,JSON.stringify({reads,bad}));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const ready = new Promise<void>((resolve) =>
      reader.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready\n')) resolve();
      }),
    );
    const done = new Promise((resolve) => reader.on('exit', resolve));
    await ready; // the reader is in its loop before the first replacement
    for (let i = 0; i < 300; i++) writeFileAtomic(file, (i % 2 ? 'a' : 'b').repeat(size));
    fs.writeFileSync(stop, '');
    await done;
    const { reads, bad } = JSON.parse(out.slice(out.indexOf('ready\n') + 6));
    expect(reads).toBeGreaterThan(0);
    expect(bad).toBe(0);
  });
});
