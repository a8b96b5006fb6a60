// The argument parser: --help on every command, --version, and usage errors exit 2 with a hint.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/config.js';
import { runPtui } from './run-ptui.js';

const VERSION = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;

describe('ptui arguments', () => {
  const commands = [[], ['dashboard'], ['gateway'], ['config'], ['config', 'check'], ['config', 'export'], ['config', 'print'], ['demo']];
  for (const cmd of commands) {
    it(`ptui ${[...cmd, '--help'].join(' ')} prints usage and exits 0`, () => {
      const r = runPtui([...cmd, '--help']);
      expect(r.status).toBe(0);
      const usageName = cmd.length === 0 ? 'ptui' : `ptui ${cmd.join(' ')}`;
      expect(r.stdout).toContain(`Usage: ${usageName} [options]`);
    });
  }

  it('top-level help lists the commands and the paths/environment table', () => {
    const r = runPtui(['--help']);
    for (const s of ['dashboard', 'gateway', 'config', 'demo', 'AI_BACKEND_HOME', 'AI_BACKEND_CONFIG_DIR', 'AI_BACKEND_MASTER_KEY']) {
      expect(r.stdout).toContain(s);
    }
  });

  it('--version and -V print the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = runPtui([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(VERSION);
    }
  });

  const usageErrors: { args: string[]; stderr: string[] }[] = [
    { args: ['bogus'], stderr: ["error: unknown command 'bogus'", "(run 'ptui --help' for usage)"] },
    { args: ['gatewy'], stderr: ["error: unknown command 'gatewy' (did you mean 'gateway'?)"] },
    { args: ['--bogus'], stderr: ["error: unknown option '--bogus'", '--help'] },
    { args: ['gateway', '--bogus'], stderr: ["error: unknown option '--bogus'", "(run 'ptui gateway --help' for usage)"] },
    { args: ['gateway', '--port', 'abc'], stderr: ['must be a port number 0-65535'] },
    { args: ['config'], stderr: ['Usage: ptui config [options] [command]'] },
    { args: ['config', 'bogus'], stderr: ["error: unknown command 'bogus'", "(run 'ptui config --help' for usage)"] },
    { args: ['config', 'chek'], stderr: ["error: unknown command 'chek'", 'check'] },
    { args: ['config', 'check', '--bogus'], stderr: ["error: unknown option '--bogus'", "(run 'ptui config check --help' for usage)"] },
    { args: ['config', 'print', '--jsn'], stderr: ["error: unknown option '--jsn'", '--json'] },
    { args: ['config', 'export', 'extra'], stderr: ['too many arguments', "(run 'ptui config export --help' for usage)"] },
    { args: ['--home'], stderr: ["option '--home <dir>' argument missing"] },
    { args: ['dashboard', '--refresh-ms', '0'], stderr: ['must be a positive integer'] },
  ];
  for (const u of usageErrors) {
    it(`ptui ${u.args.join(' ')} is a usage error: exit 2 with a hint`, () => {
      const r = runPtui(u.args);
      expect(r.status).toBe(2);
      for (const s of u.stderr) expect(r.stderr).toContain(s);
      expect(r.stdout).toBe('');
    });
  }
});
