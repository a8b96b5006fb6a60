// Hostile text through every source the console draws, read back from the raw pty stream
// (tmux pipe-pane): journal lines, GPU process names, unit state, model names in the usage
// log and in /budgets from the real gateway, config errors from the console's own load and
// from the gateway's /health. No escape sequence but the console's own may reach the
// terminal, and rows with CJK and emoji keep their columns.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { displayWidth } from '../../src/tui/presentation/format.js';
import { cleanEnv, type TempHome } from '../helpers/config.js';
import { freePort, makeSimHome } from '../helpers/gateway.js';
import { HOSTILE_MARKERS, HOSTILE_TEXT } from '../helpers/hostileText.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

const CJK = '模型'.repeat(20);
const EMOJI = '🚀🔥'.repeat(10);
// Configured names cannot carry control or invisible characters (the config refuses them), so
// hostile model names arrive the way an attacker sends them: asked for by a client, recorded in
// the usage log as asked (404 model_not_found), and drawn in Requests.
const MODELS = [CJK, EMOJI, 'plain'];
const HOSTILE_MODELS = HOSTILE_TEXT.slice(0, 6).map((h, i) => `m${i}${h}`);

/** Everything our own frames use: CSI with numeric/private parameters (SGR, cursor, modes). */
const OWN_SEQUENCE = /^\x1b\[[0-9;?]*[A-Za-z]/;

describe.skipIf(!tmuxAvailable())('hostile text never reaches the terminal', () => {
  let sim: SimUpstream;
  let home: TempHome;
  let bin: string;
  let port: number;
  let t: TmuxSession;
  let raw: string;
  const file = (name: string) => path.join(home.home, name);

  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: false });
    const models = Object.fromEntries(
      MODELS.map((m) => [m, { capability: 'chat', budget: { max_budget_usd: 1, budget_window: '1h' }, targets: [{ provider: 'sim', model: 'sim-model' }] }]),
    );
    home = makeSimHome(sim.url, { models });
    const providers = YAML.parse(fs.readFileSync(path.join(home.configDir, 'providers.yaml'), 'utf8'));
    providers.providers.sim.service = 'vllm.service';
    fs.writeFileSync(path.join(home.configDir, 'providers.yaml'), YAML.stringify(providers));
    bin = bareBinDir();
    port = await freePort();
    fs.mkdirSync(file('systemd'));
    fs.writeFileSync(file('systemd/vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: process.pid }));
    fs.writeFileSync(file('apps.json'), '[]');
    raw = file('pty.raw');
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(port), '--stop-gateway-on-exit'],
      env: cleanEnv({
        PATH: `${FAKE_BIN_DIR}:${bin}`,
        HOME: home.home,
        PTUI_SYSTEMD_DIR: file('systemd'),
        FAKE_SYSTEMD_STATE: file('systemd'),
        FAKE_NVIDIA_SMI_APPS: file('apps.json'),
      }),
    });
    execFileSync('tmux', ['-L', t.socket, 'pipe-pane', '-o', '-t', 'main', `cat >> '${raw}'`]);
  });

  afterAll(async () => {
    t?.kill();
    await sim?.close();
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  const chat = (model: string) =>
    fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('draws every source with hostile text, and only the console’s own sequences reach the pty', async () => {
    await t.waitForText('● running', 30_000);
    // GPU process names (argv[0] is anyone's), unit sub-state, journal lines
    fs.writeFileSync(file('apps.json'), JSON.stringify(HOSTILE_TEXT.slice(0, 4).map((name, i) => ({ gpu: 0, pid: 5000 + i, name: `py${name}`, usedMiB: 1000 }))));
    fs.writeFileSync(file('systemd/vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: `run${HOSTILE_TEXT[0]}`, MainPID: process.pid }));
    fs.writeFileSync(file('systemd/vllm.service.journal'), HOSTILE_TEXT.map((h, i) => `2026-12-01T10:00:0${i % 10}+0000 box vllm[1]: line ${i} ${h}`).join('\n') + '\n');
    // model names through the usage log: configured ones, and hostile ones a client asks for
    for (const m of MODELS) expect(await chat(m)).toBe(200);
    for (const m of HOSTILE_MODELS) expect(await chat(m)).toBe(404);
    // (the gateway already blanks the control characters of a name it records; the console
    // cleans whatever arrives anyway)
    await t.waitForText(/m0\W{1,2}\]0;PWNED-TITLE/, 10_000);
    await t.waitForText(/py\uFFFD/, 10_000);
    t.sendKeys('l');
    await t.waitForText(/line \d+ \uFFFD/, 10_000);
    t.sendKeys('Escape');
    await t.waitForText('6 Requests');
    // a config error naming a hostile provider: the console's own load and the gateway's /health
    const mappings = YAML.parse(fs.readFileSync(path.join(home.configDir, 'model-mappings.yaml'), 'utf8'));
    mappings.models.plain.targets[0].provider = `evil${HOSTILE_TEXT[1]}`;
    fs.writeFileSync(path.join(home.configDir, 'model-mappings.yaml'), YAML.stringify(mappings));
    await t.waitForText('config invalid', 10_000);
    await t.waitForText(/config error: /, 10_000);

    const stream = fs.readFileSync(raw, 'utf8');
    expect(stream.length).toBeGreaterThan(1000);
    for (const marker of HOSTILE_MARKERS) expect(stream, `marker ${JSON.stringify(marker)}`).not.toContain(marker);
    expect(stream).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200b]/u);
    for (let i = stream.indexOf('\x1b'); i !== -1; i = stream.indexOf('\x1b', i + 1)) {
      const seq = OWN_SEQUENCE.exec(stream.slice(i, i + 40));
      if (!seq) throw new Error(`foreign escape at ${i}: ${JSON.stringify(stream.slice(i, i + 40))}`);
    }
    // the console clears the screen once, on entering it; nothing else may
    expect(stream.split('\x1b[2J').length - 1).toBeLessThanOrEqual(1);
    expect(stream.indexOf('\x1b[2J')).toBeLessThan(40);
    expect(stream).not.toContain('\x1b[?1049l');
  });

  it('keeps the request columns in line with CJK and emoji model names', async () => {
    const screen = t.capture();
    const rows = screen.split('\n').filter((l) => / ok 200 /.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.some((r) => r.includes('模型'))).toBe(true);
    expect(rows.some((r) => r.includes('🚀'))).toBe(true);
    const statusColumn = rows.map((r) => displayWidth(r.slice(0, r.indexOf(' ok 200 '))));
    expect(new Set(statusColumn).size, rows.join('\n')).toBe(1);
    for (const l of screen.split('\n')) expect(displayWidth(l)).toBeLessThanOrEqual(120);
  });
});
