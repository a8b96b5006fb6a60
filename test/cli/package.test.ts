// What ships besides the source: bin and scripts, the example systemd unit, CI entry, README.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../../src/config/gateway-flags.js';
import { cleanEnv, REPO_ROOT } from '../helpers/config.js';

const read = (p: string) => fs.readFileSync(path.join(REPO_ROOT, p), 'utf8');
const HAS_SYSTEMD_ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('package layout', () => {
  it('package.json: the ptui bin, npm start/test, shipped folders', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.bin).toEqual({ ptui: 'bin/ptui' });
    expect(pkg.scripts.start).toBe('node bin/ptui');
    expect(pkg.scripts.test).toBe('vitest run');
    expect(pkg.scripts.prepare).toBeDefined();
    for (const f of ['bin', 'dist', 'config', 'scripts', 'deploy']) expect(pkg.files).toContain(f);
  });

  it('bin/ptui, scripts/ptui and scripts/print-logical-config are executable and run', () => {
    for (const f of ['bin/ptui', 'scripts/ptui', 'scripts/print-logical-config']) {
      expect(fs.statSync(path.join(REPO_ROOT, f)).mode & 0o111).not.toBe(0);
    }
    const r = spawnSync(path.join(REPO_ROOT, 'scripts', 'ptui'), ['--version'], { encoding: 'utf8', env: cleanEnv(), cwd: '/' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(read('package.json')).version);
  });

  it('the systemd unit runs `ptui gateway` with the .env as EnvironmentFile', () => {
    const unit = read('deploy/ptui-gateway.service');
    expect(unit).toMatch(/^ExecStart=\S*node (?:--\S+ )*\S*\/bin\/ptui gateway$/m);
    // the same V8 flags as the console's gateway child
    const execFlags = unit.match(/^ExecStart=\S*node ((?:--\S+ )*)/m)![1]!.trim().split(/\s+/).filter(Boolean);
    expect(execFlags).toEqual([...GATEWAY_NODE_FLAGS]);
    expect(unit).toMatch(/^EnvironmentFile=-?\S*\/\.env$/m);
    expect(unit).toMatch(/^Environment=AI_BACKEND_HOME=/m);
    expect(unit).toMatch(/^\[Install\]$/m);
  });

  it.skipIf(!HAS_SYSTEMD_ANALYZE)('systemd-analyze verify accepts the unit', () => {
    const r = spawnSync('systemd-analyze', ['verify', path.join(REPO_ROOT, 'deploy', 'ptui-gateway.service')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).not.toMatch(/Unknown (key|section)|Failed to parse|Invalid/i);
  });

  it('.ci/run: strict bash, system tools, npm ci, then exactly the README test command', () => {
    const ci = read('.ci/run');
    expect(spawnSync('bash', ['-n', path.join(REPO_ROOT, '.ci', 'run')]).status).toBe(0);
    expect(ci).toMatch(/^set -euo pipefail$/m);
    expect(ci).toMatch(/apt-get update/);
    expect(ci).toMatch(/apt-get install -y .*tmux prometheus/);
    const commands = ci
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands.at(-2)).toBe('npm ci');
    expect(commands.at(-1)).toBe('npm test');
    const readme = read('README.md');
    expect(readme).toContain('npm install');
    expect(readme).toContain('npm start');
    expect(readme).toMatch(/```(?:sh|bash)?\n(?:.*\n)*?npm test\n/);
  });
});
