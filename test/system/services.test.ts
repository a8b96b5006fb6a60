import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServicesMonitor, SYSTEMD_UNAVAILABLE, servicesFromConfig, type ServiceSpec } from '../../src/system/services.js';
import { GpuMonitor } from '../../src/system/gpu.js';
import { readParentPid } from '../../src/system/proctree.js';
import { fakeEnv, readLog, tempDir, waitFor } from './fakes.js';

interface Sandbox {
  state: string;
  log: string;
  journalLog: string;
  systemdDir: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(extra: Record<string, string> = {}): Sandbox {
  const root = tempDir('svc');
  const state = path.join(root, 'state');
  const systemdDir = path.join(root, 'run-systemd-system');
  fs.mkdirSync(path.join(state, 'user'), { recursive: true });
  fs.mkdirSync(systemdDir);
  const log = path.join(root, 'systemctl.log');
  const journalLog = path.join(root, 'journalctl.log');
  return {
    state,
    log,
    journalLog,
    systemdDir,
    env: fakeEnv({
      FAKE_SYSTEMD_STATE: state,
      FAKE_SYSTEMCTL_LOG: log,
      FAKE_JOURNALCTL_LOG: journalLog,
      PTUI_SYSTEMD_DIR: systemdDir,
      FAKE_SYSTEMCTL_SLEEP_S: '60',
      LC_ALL: 'de_DE.UTF-8',
      ...extra,
    }),
  };
}

function writeUnit(sb: Sandbox, unit: string, state: Record<string, unknown>, scope: 'system' | 'user' = 'system') {
  const dir = scope === 'user' ? path.join(sb.state, 'user') : sb.state;
  fs.writeFileSync(path.join(dir, `${unit}.json`), JSON.stringify(state));
}

function readUnit(sb: Sandbox, unit: string, scope: 'system' | 'user' = 'system') {
  const dir = scope === 'user' ? path.join(sb.state, 'user') : sb.state;
  return JSON.parse(fs.readFileSync(path.join(dir, `${unit}.json`), 'utf8'));
}

let healthServer: http.Server;
let healthBase: string;
beforeAll(async () => {
  healthServer = http.createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 200 : 503;
    res.end('x');
  });
  await new Promise<void>((r) => healthServer.listen(0, '127.0.0.1', r));
  healthBase = `http://127.0.0.1:${(healthServer.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => healthServer.close(() => r())));

const monitors: Array<{ stop: () => void }> = [];
const children: ChildProcess[] = [];
const mainPids: number[] = [];
afterEach(() => {
  monitors.splice(0).forEach((m) => m.stop());
  children.splice(0).forEach((c) => c.kill());
});
// Units the fake started have a real `sleep` as MainPID; end them, by pid.
function trackMainPid(sb: Sandbox, unit: string, scope: 'system' | 'user' = 'system') {
  const pid = readUnit(sb, unit, scope).MainPID;
  if (pid > 0) mainPids.push(pid);
  return pid;
}
afterAll(() => {
  for (const pid of mainPids) {
    try {
      process.kill(pid);
    } catch {
      // already stopped by the test
    }
  }
});

function monitor(sb: Sandbox, services: ServiceSpec[], opts: Partial<ConstructorParameters<typeof ServicesMonitor>[0]> = {}) {
  const m = new ServicesMonitor({ services, env: sb.env, refreshMs: 200, ...opts });
  monitors.push(m);
  return m;
}

const SERVICES: ServiceSpec[] = [
  { provider: 'vllm', unit: 'vllm.service' },
  { provider: 'ollama', unit: 'ollama.service' },
];

describe('ServicesMonitor against the fake systemctl', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = sandbox();
    writeUnit(sb, 'vllm.service', {
      ActiveState: 'active',
      SubState: 'running',
      MainPID: 4242,
      ExecMainStartTimestamp: 'Fri 2026-11-27 07:00:00 UTC',
    });
    writeUnit(sb, 'ollama.service', { ActiveState: 'inactive', SubState: 'dead', MainPID: 0, deny: ['start'] });
  });

  it('reads every unit with one systemctl show under LC_ALL=C, in config order', async () => {
    const m = monitor(sb, SERVICES);
    const s = await m.refresh();
    expect(s.systemdAvailable).toBe(true);
    expect(s.notice).toBeNull();
    expect(s.services).toEqual([
      {
        provider: 'vllm', unit: 'vllm.service', loadState: 'loaded', activeState: 'active', subState: 'running',
        mainPid: 4242, since: '2026-11-27T07:00:00.000Z', health: 'none', healthDetail: null, gpuMemMiB: null, error: null,
      },
      {
        provider: 'ollama', unit: 'ollama.service', loadState: 'loaded', activeState: 'inactive', subState: 'dead',
        mainPid: null, since: null, health: 'none', healthDetail: null, gpuMemMiB: null, error: null,
      },
    ]);
    const calls = readLog(sb.log);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      argv: ['show', '-p', 'LoadState,ActiveState,SubState,MainPID,ExecMainStartTimestamp', 'vllm.service', 'ollama.service'],
      lcAll: 'C',
    });
  });

  it('start/stop/restart run the exact argv and the state follows', async () => {
    const m = monitor(sb, SERVICES);
    await m.refresh();
    writeUnit(sb, 'ollama.service', { ActiveState: 'inactive', SubState: 'dead', MainPID: 0 });
    const started = await m.runServiceAction('ollama.service', 'start');
    expect(started).toMatchObject({ ok: true, unit: 'ollama.service', verb: 'start', argv: ['systemctl', '--no-ask-password', 'start', 'ollama.service'] });
    expect(started.message).toBe('start ollama.service: done (now active/running)');
    const pid = trackMainPid(sb, 'ollama.service');
    const after = m.getSnapshot().services[1];
    expect(after).toMatchObject({ activeState: 'active', subState: 'running', mainPid: pid, error: null });
    expect(after.since).not.toBeNull();

    const restarted = await m.runServiceAction('ollama.service', 'restart');
    expect(restarted.argv).toEqual(['systemctl', '--no-ask-password', 'restart', 'ollama.service']);
    trackMainPid(sb, 'ollama.service');
    expect(m.getSnapshot().services[1].mainPid).not.toBe(pid);

    const stopped = await m.runServiceAction('ollama.service', 'stop');
    expect(stopped).toMatchObject({ ok: true, argv: ['systemctl', '--no-ask-password', 'stop', 'ollama.service'] });
    expect(m.getSnapshot().services[1]).toMatchObject({ activeState: 'inactive', subState: 'dead', mainPid: null });

    const actions = readLog(sb.log).filter((c) => c.argv[0] === '--no-ask-password').map((c) => c.argv);
    expect(actions).toEqual([
      ['--no-ask-password', 'start', 'ollama.service'],
      ['--no-ask-password', 'restart', 'ollama.service'],
      ['--no-ask-password', 'stop', 'ollama.service'],
    ]);
    expect(readLog(sb.log).every((c) => c.lcAll === 'C')).toBe(true);
  });

  it('uses --user for user scope, for show, actions and the journal', async () => {
    writeUnit(sb, 'vllm.service', { ActiveState: 'inactive', SubState: 'dead', MainPID: 0 }, 'user');
    writeUnit(sb, 'vllm.service', { ActiveState: 'inactive', SubState: 'dead', MainPID: 0 });
    const m = monitor(sb, [SERVICES[0]], { scope: 'user' });
    expect((await m.refresh()).services[0]).toMatchObject({ activeState: 'inactive', loadState: 'loaded' });
    const r = await m.runServiceAction('vllm.service', 'start');
    trackMainPid(sb, 'vllm.service', 'user');
    expect(r).toMatchObject({ ok: true, argv: ['systemctl', '--no-ask-password', '--user', 'start', 'vllm.service'] });
    expect(m.getSnapshot().services[0].activeState).toBe('active');
    expect(readUnit(sb, 'vllm.service').ActiveState).toBe('inactive'); // the system manager's unit is untouched
    expect(readLog(sb.log)[0].argv.slice(0, 2)).toEqual(['--user', 'show']);
    expect(m.journalFollowCommand('vllm.service')).toMatchObject({
      argv: ['journalctl', '--user', '-u', 'vllm.service', '-n', '200', '-f', '-o', 'json', '--no-pager'],
      env: { LC_ALL: 'C' },
    });
  });

  it('surfaces Access denied (exit 4) in the result and on the service until its state moves', async () => {
    const m = monitor(sb, SERVICES);
    await m.refresh();
    const r = await m.runServiceAction('ollama.service', 'start');
    expect(r).toMatchObject({ ok: false, message: 'Failed to start ollama.service: Access denied' });
    expect(m.getSnapshot().services[1]).toMatchObject({ activeState: 'inactive', error: 'Failed to start ollama.service: Access denied' });
    await m.refresh();
    expect(m.getSnapshot().services[1].error).toBe('Failed to start ollama.service: Access denied');
    writeUnit(sb, 'ollama.service', { ActiveState: 'active', SubState: 'running', MainPID: 77 });
    await m.refresh();
    expect(m.getSnapshot().services[1].error).toBeNull();
  });

  it('keeps the error of a restart that leaves the unit failed', async () => {
    writeUnit(sb, 'vllm.service', { ActiveState: 'active', SubState: 'running', MainPID: 4242, failOnStart: true });
    const m = monitor(sb, SERVICES);
    await m.refresh();
    const r = await m.runServiceAction('vllm.service', 'restart');
    expect(r.ok).toBe(false);
    expect(r.message).toBe('Job for vllm.service failed because the control process exited with error code.');
    expect(m.getSnapshot().services[0]).toMatchObject({ activeState: 'failed', subState: 'failed', error: r.message });
    await m.refresh();
    expect(m.getSnapshot().services[0].error).toBe(r.message);
  });

  it('shows an unknown unit as not-found and surfaces "Unit … not found." from start', async () => {
    const m = monitor(sb, [...SERVICES, { provider: 'ghost', unit: 'ghost.service' }]);
    const s = await m.refresh();
    expect(s.services[2]).toMatchObject({ loadState: 'not-found', activeState: 'inactive', error: 'Unit ghost.service not found.' });
    const r = await m.runServiceAction('ghost.service', 'start');
    expect(r).toMatchObject({ ok: false, message: 'Failed to start ghost.service: Unit ghost.service not found.' });
  });

  it('refuses units and verbs that are not configured, without running systemctl', async () => {
    const m = monitor(sb, SERVICES);
    await m.refresh();
    const before = readLog(sb.log).length;
    const r = await m.runServiceAction('sshd.service', 'stop');
    expect(r).toEqual({ ok: false, unit: 'sshd.service', verb: 'stop', argv: [], message: 'sshd.service is not a configured service: refused' });
    const bad = await m.runServiceAction('vllm.service', 'kill' as 'stop');
    expect(bad.ok).toBe(false);
    expect(bad.message).toBe('unknown action "kill"');
    expect(m.journalFollowCommand('sshd.service')).toEqual({ error: 'sshd.service is not a configured service: refused' });
    expect(readLog(sb.log).length).toBe(before);
    expect(readLog(sb.journalLog)).toEqual([]);
  });

  it('probes health_url: ok on 2xx, fail with the status or the connection error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const m = monitor(sb, [
      { provider: 'vllm', unit: 'vllm.service', healthUrl: `${healthBase}/health` },
      { provider: 'ollama', unit: 'ollama.service', healthUrl: `${healthBase}/broken` },
      { provider: 'gone', unit: 'gone.service', healthUrl: `http://127.0.0.1:${deadPort}/health` },
    ]);
    const s = await m.refresh();
    expect(s.services.map((x) => [x.health, x.healthDetail])).toEqual([
      ['ok', 'HTTP 200'],
      ['fail', 'HTTP 503'],
      ['fail', 'ECONNREFUSED'],
    ]);
  });

  it('without systemd (PTUI_SYSTEMD_DIR missing) says so, runs no systemctl, refuses actions, still probes health', async () => {
    const noSystemd = sandbox({ PTUI_SYSTEMD_DIR: path.join(tempDir('nosd'), 'absent') });
    const m = monitor(noSystemd, [{ provider: 'vllm', unit: 'vllm.service', healthUrl: `${healthBase}/health` }]);
    const s = await m.refresh();
    expect(s).toMatchObject({ systemdAvailable: false, notice: SYSTEMD_UNAVAILABLE });
    expect(s.services[0]).toMatchObject({ activeState: null, mainPid: null, health: 'ok' });
    const r = await m.runServiceAction('vllm.service', 'restart');
    expect(r).toMatchObject({ ok: false, argv: [], message: SYSTEMD_UNAVAILABLE });
    expect(readLog(noSystemd.log)).toEqual([]);
  });

  it('without a systemctl executable says systemd is unavailable', async () => {
    const bin = tempDir('bin');
    const m = monitor({ ...sb, env: { ...sb.env, PATH: bin } }, SERVICES);
    const s = await m.refresh();
    expect(s).toMatchObject({ systemdAvailable: false, notice: SYSTEMD_UNAVAILABLE });
  });

  it('with systemd not PID 1 (bus unreachable) shows the error on each unit', async () => {
    const m = monitor({ ...sb, env: { ...sb.env, FAKE_SYSTEMD_STATE: '' } }, SERVICES);
    const s = await m.refresh();
    expect(s.services.map((x) => x.error)).toEqual([
      "System has not been booted with systemd as init system (PID 1). Can't operate.",
      "System has not been booted with systemd as init system (PID 1). Can't operate.",
    ]);
  });

  it('attributes GPU memory of compute apps to the unit whose MainPID is them or their ancestor', async () => {
    // A "service": sh (MainPID) with a sleep child, like vLLM's API server and its worker.
    const sh = spawn('sh', ['-c', 'sleep 30; :'], { stdio: 'ignore' });
    children.push(sh);
    const worker = await waitFor(
      () => fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).find((p) => readParentPid(p) === sh.pid),
      'the worker child',
    );
    writeUnit(sb, 'vllm.service', { ActiveState: 'active', SubState: 'running', MainPID: sh.pid });
    const apps = path.join(tempDir('apps'), 'apps.json');
    fs.writeFileSync(
      apps,
      JSON.stringify([
        { gpu: 0, pid: worker, name: 'python3', usedMiB: 70000 },
        { gpu: 1, pid: sh.pid, name: 'python3', usedMiB: 1000 },
        { gpu: 1, pid: 1, name: 'init', usedMiB: 5 },
      ]),
    );
    const gpu = new GpuMonitor({ refreshMs: 150, env: { ...sb.env, FAKE_NVIDIA_SMI_APPS: apps } });
    monitors.push(gpu);
    gpu.start();
    await waitFor(() => gpu.getSnapshot().processes.length === 3, 'compute apps');
    const m = monitor(sb, SERVICES, { gpuProcesses: () => gpu.getSnapshot().processes });
    const s = await m.refresh();
    expect(s.services[0]).toMatchObject({ mainPid: sh.pid, gpuMemMiB: 71000 });
    expect(s.services[1].gpuMemMiB).toBeNull();
    process.kill(worker);
  });

  it('builds the service list from the config in provider order', () => {
    expect(
      servicesFromConfig({
        providers: {
          vllm: { type: 'openai-compatible', api_base: 'http://x', service: 'vllm.service', health_url: 'http://x/health', timeout_s: 600 },
          openai: { type: 'openai', api_base: 'https://api.openai.com/v1', timeout_s: 600 },
          ollama: { type: 'ollama', api_base: 'http://y', service: 'ollama.service', timeout_s: 600 },
        },
      }),
    ).toEqual([
      { provider: 'vllm', unit: 'vllm.service', healthUrl: 'http://x/health' },
      { provider: 'ollama', unit: 'ollama.service', healthUrl: undefined },
    ]);
  });

  it('emits updates on its own rhythm once started', async () => {
    const m = monitor(sb, SERVICES);
    let updates = 0;
    m.subscribe(() => updates++);
    m.start();
    await waitFor(() => updates >= 3, 'three updates');
    m.stop();
  });
});
