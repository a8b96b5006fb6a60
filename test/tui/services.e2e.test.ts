// The real `ptui` in tmux with the fake nvidia-smi, systemctl and journalctl on PATH: both
// GPUs with `–` for what the driver does not report, GPU memory charged to the unit whose
// MainPID started the process, exactly one GPU-stats child, and s/x/r running the right
// systemctl argv (x and r only after y), with errors shown.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome, sampleConfig, type TempHome } from '../helpers/config.js';
import { freePort } from '../helpers/gateway.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';
import { stopSpawnedUnits } from '../helpers/units.js';

function readLog(file: string): Array<{ argv: string[] }> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const sameArgv = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

describe.skipIf(!tmuxAvailable())('dashboard with fake GPUs and systemd', () => {
  let home: TempHome;
  let bin: string;
  let t: TmuxSession;
  let vllmMain: ChildProcess;
  let workerPid: number;
  const files = (name: string) => path.join(home.home, name);

  beforeAll(async () => {
    const providers = sampleConfig('providers');
    providers.providers.tgi = { type: 'openai-compatible', api_base: 'http://127.0.0.1:9/v1', service: 'tgi.service' };
    home = makeHome({ providers });
    bin = bareBinDir();
    // vLLM's shape: the unit's MainPID is a server whose child (a worker) holds the GPU memory.
    vllmMain = spawn('sh', ['-c', 'sleep 300 & wait'], { stdio: 'ignore' });
    workerPid = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const look = () => {
        const children = fs.readFileSync(`/proc/${vllmMain.pid}/task/${vllmMain.pid}/children`, 'utf8').trim();
        if (children) resolve(Number(children.split(' ')[0]));
        else if (Date.now() - started > 5000) reject(new Error('no worker'));
        else setTimeout(look, 20);
      };
      look();
    });
    const state = files('systemd');
    fs.mkdirSync(state);
    const since = 'Fri 2026-11-27 07:00:00 UTC';
    fs.writeFileSync(
      path.join(state, 'vllm.service.json'),
      JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: vllmMain.pid, ExecMainStartTimestamp: since }),
    );
    fs.writeFileSync(path.join(state, 'ollama.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', MainPID: 0 }));
    fs.writeFileSync(path.join(state, 'tgi.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', deny: true }));
    fs.writeFileSync(files('apps.json'), JSON.stringify([{ gpu: 0, pid: workerPid, name: '/usr/bin/python3', usedMiB: 40000 }]));
    const port = await freePort();
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--no-gateway'],
      env: cleanEnv({
        PATH: `${FAKE_BIN_DIR}:${bin}`,
        HOME: home.home,
        PTUI_SYSTEMD_DIR: state,
        FAKE_SYSTEMD_STATE: state,
        FAKE_SYSTEMCTL_LOG: files('systemctl.log'),
        FAKE_SYSTEMCTL_SLEEP_S: '60',
        FAKE_JOURNALCTL_LOG: files('journalctl.log'),
        FAKE_NVIDIA_SMI_MODE: 'na',
        FAKE_NVIDIA_SMI_APPS: files('apps.json'),
        FAKE_NVIDIA_SMI_LOG: files('nvidia-smi.log'),
      }),
    });
  });

  afterAll(() => {
    t?.kill();
    vllmMain?.kill();
    if (workerPid) {
      try {
        process.kill(workerPid);
      } catch {
        // gone with its parent
      }
    }
    // units the fake started are `sleep`s of their own
    stopSpawnedUnits(files('systemd'), ['ollama.service', 'tgi.service']);
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('shows both GPUs, – for what is not reported, and GPU memory against the unit', async () => {
    const unitRow = /vllm\.service\s+active\/running\s+\d+\s+\S+\s+fail\s+39\.1G/; // health_url of the sample answers nothing
    const screen = await t.waitForScreen(
      (s) => /→ vllm\.service/.test(s) && /^1 H100.*–/m.test(s) && unitRow.test(s) && s,
      'GPUs, the attributed process and the unit’s GPU memory',
    );
    const gpu0 = screen.split('\n').find((l) => l.startsWith('0 H100'))!;
    const gpu1 = screen.split('\n').find((l) => l.startsWith('1 H100'))!;
    expect(gpu0).toMatch(/\d+%.*\/79\.6G\s+\d+°C\s+\d+\/700W/);
    // GPU 1: util, temperature and power are [N/A]/[Not Supported]; memory is reported
    expect(gpu1).toMatch(/H100 80GB HBM3\s+–\s/);
    expect(gpu1).toMatch(/\/79\.6G\s+–\s+–\/–W|\/79\.6G\s+–\s+–/);
    expect(screen).toMatch(new RegExp(`${workerPid}\\s+39\\.1G python3 → vllm\\.service`));
  });

  it('runs exactly one GPU-stats child for the session', async () => {
    // a few refreshes later there is still one streaming nvidia-smi, and compute-apps polls
    await t.waitForScreen(() => readLog(files('nvidia-smi.log')).filter((e) => e.argv.some((a) => a.startsWith('--query-compute-apps'))).length >= 3, 'three compute-apps polls');
    const streams = readLog(files('nvidia-smi.log')).filter((e) => e.argv.includes('-lms'));
    expect(streams).toHaveLength(1);
    expect(streams[0].argv.some((a) => a.startsWith('--query-gpu'))).toBe(true);
  });

  it('starts the selected unit on s with the exact argv, and shows the new state', async () => {
    t.sendKeys('j'); // ollama.service
    await t.waitForText(/▸ ollama\.service/);
    t.sendKeys('s');
    await t.waitForText(/ollama\.service\s+active\/running/);
    expect(readLog(files('systemctl.log')).some((e) => sameArgv(e.argv, ['--no-ask-password', 'start', 'ollama.service']))).toBe(true);
    await t.waitForText('start ollama.service: done');
  });

  it('stops only after y, and not after n', async () => {
    t.sendKeys('x');
    await t.waitForText('stop ollama.service? y/n');
    t.sendKeys('n');
    await t.waitForText('stop ollama.service: cancelled');
    expect(readLog(files('systemctl.log')).some((e) => e.argv.includes('stop'))).toBe(false);
    t.sendKeys('x');
    await t.waitForText('stop ollama.service? y/n');
    t.sendKeys('y');
    await t.waitForText(/ollama\.service\s+inactive\/dead/);
    expect(readLog(files('systemctl.log')).some((e) => sameArgv(e.argv, ['--no-ask-password', 'stop', 'ollama.service']))).toBe(true);
  });

  it('restarts after y', async () => {
    t.sendKeys('r');
    await t.waitForText('restart ollama.service? y/n');
    t.sendKeys('y');
    await t.waitForText(/ollama\.service\s+active\/running/);
    expect(readLog(files('systemctl.log')).some((e) => sameArgv(e.argv, ['--no-ask-password', 'restart', 'ollama.service']))).toBe(true);
  });

  it('shows systemctl’s error instead of swallowing it', async () => {
    t.sendKeys('j'); // tgi.service: access denied
    await t.waitForText(/▸ tgi\.service/);
    t.sendKeys('s');
    await t.waitForText('Failed to start tgi.service: Access denied');
  });

  it('opens the journal of the selected unit on l', async () => {
    t.sendKeys('l');
    await t.waitForText(/Journal: tgi\.service[^]*Started tgi\.service/);
    expect(
      readLog(files('journalctl.log')).some((e) => sameArgv(e.argv, ['-u', 'tgi.service', '-n', '200', '-f', '-o', 'json', '--no-pager'])),
    ).toBe(true);
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
  });

  it('exports the config on e', async () => {
    t.sendKeys('e');
    await t.waitForText('wrote budget_config.json and litellm_config.yaml');
    const doc = JSON.parse(fs.readFileSync(path.join(home.runtimeDir, 'budget_config.json'), 'utf8'));
    expect(JSON.stringify(doc)).toContain('gpt-4');
  });

  it('quits cleanly', async () => {
    t.sendKeys('q');
    expect(await t.waitForExit()).toBe(0);
    expect(t.display('#{alternate_on}')).toBe('0');
    expect(t.display('#{cursor_flag}')).toBe('1');
  });
});
