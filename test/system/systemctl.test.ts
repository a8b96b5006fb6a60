import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  actionArgs,
  journalFollowArgs,
  parseShowOutput,
  parseSystemdTimestamp,
  showArgs,
  unitProperties,
} from '../../src/system/systemctl.js';
import { ParentCache, readParentPid } from '../../src/system/proctree.js';
import { mountPointFor } from '../../src/system/host.js';
import { tempDir } from './fakes.js';

describe('systemctl show parsing', () => {
  it('splits blocks per unit and reads the properties in any order', () => {
    const out =
      'MainPID=4242\nExecMainStartTimestamp=Fri 2026-11-27 07:00:00 UTC\nLoadState=loaded\nActiveState=active\nSubState=running\n\n' +
      'MainPID=0\nExecMainStartTimestamp=\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n';
    const blocks = parseShowOutput(out);
    expect(blocks).toHaveLength(2);
    expect(unitProperties(blocks[0])).toEqual({
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      mainPid: 4242,
      since: '2026-11-27T07:00:00.000Z',
    });
    expect(unitProperties(blocks[1])).toEqual({ loadState: 'not-found', activeState: 'inactive', subState: 'dead', mainPid: null, since: null });
  });

  it('keeps "=" inside values and ignores junk lines', () => {
    const [b] = parseShowOutput('Description=a=b\r\nnot a property\nActiveState=failed\n');
    expect(b).toEqual({ Description: 'a=b', ActiveState: 'failed' });
  });

  it('parses systemd timestamps: UTC, local zones, unix, empty and n/a', () => {
    expect(parseSystemdTimestamp('Thu 2026-01-01 00:00:01 UTC')).toBe('2026-01-01T00:00:01.000Z');
    expect(parseSystemdTimestamp('@1767225601')).toBe('2026-01-01T00:00:01.000Z');
    expect(parseSystemdTimestamp('Thu 2026-01-01 00:00:01 CET')).toBe(new Date(2026, 0, 1, 0, 0, 1).toISOString());
    expect(parseSystemdTimestamp('')).toBeNull();
    expect(parseSystemdTimestamp('n/a')).toBeNull();
    expect(parseSystemdTimestamp('yesterday')).toBeNull();
  });

  it('builds argument arrays, --user only for user scope', () => {
    expect(showArgs(['a.service', 'b.service'], 'system')).toEqual([
      'show', '-p', 'LoadState,ActiveState,SubState,MainPID,ExecMainStartTimestamp', 'a.service', 'b.service',
    ]);
    expect(showArgs(['a.service'], 'user')[0]).toBe('--user');
    expect(actionArgs('restart', 'vllm.service', 'system')).toEqual(['--no-ask-password', 'restart', 'vllm.service']);
    expect(actionArgs('stop', 'vllm.service', 'user')).toEqual(['--no-ask-password', '--user', 'stop', 'vllm.service']);
    expect(journalFollowArgs('vllm.service', 'user')).toEqual(['--user', '-u', 'vllm.service', '-n', '200', '-f', '-o', 'json', '--no-pager']);
  });
});

describe('process tree', () => {
  const kids: Array<{ kill: () => void }> = [];
  afterEach(() => kids.splice(0).forEach((k) => k.kill()));

  it('finds a root among ancestors through /proc', async () => {
    // sh forks sleep (the trailing ":" keeps sh from exec-ing it), so sleep is a grandchild of us.
    const sh = spawn('sh', ['-c', 'sleep 30; :'], { stdio: 'ignore' });
    kids.push(sh);
    let sleepPid: number | undefined;
    for (let i = 0; i < 200 && !sleepPid; i++) {
      await new Promise((r) => setTimeout(r, 10));
      sleepPid = fs
        .readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .map(Number)
        .find((p) => readParentPid(p) === sh.pid);
    }
    expect(sleepPid).toBeDefined();
    const cache = new ParentCache();
    expect(cache.findRoot(sleepPid!, new Set([sh.pid!]))).toBe(sh.pid);
    expect(cache.findRoot(sleepPid!, new Set([process.pid]))).toBe(process.pid);
    expect(cache.findRoot(sh.pid!, new Set([sleepPid!]))).toBeNull();
    expect(cache.findRoot(999_999_999, new Set([1]))).toBeNull();
    process.kill(sleepPid!);
  });

  it('reads the ppid even when the command name contains ") "', () => {
    const root = tempDir('proc');
    fs.mkdirSync(path.join(root, '77'));
    fs.writeFileSync(path.join(root, '77', 'stat'), '77 (evil) name) S 42 77 77 0 -1\n');
    expect(readParentPid(77, root)).toBe(42);
    expect(readParentPid(78, root)).toBeNull();
  });
});

describe('mount point of a path', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '23 22 8:2 / /data rw,relatime - ext4 /dev/sdb1 rw',
    '24 22 8:3 / /data/my\\040disk rw - xfs /dev/sdc1 rw',
    '25 22 0:5 / /dat rw - tmpfs tmpfs rw',
  ].join('\n');
  it('picks the longest mount that is a path prefix, not a string prefix', () => {
    expect(mountPointFor('/data/ptui/runtime', mountinfo)).toBe('/data');
    expect(mountPointFor('/data/my disk/runtime', mountinfo)).toBe('/data/my disk');
    expect(mountPointFor('/database', mountinfo)).toBe('/');
    expect(mountPointFor('/dat', mountinfo)).toBe('/dat');
    expect(mountPointFor('/home/x', '')).toBe('/');
  });
});
