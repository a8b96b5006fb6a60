// The real `ptui` in tmux over a real usage log (written by the gateway's own writer) and the
// fake systemctl: `/` filters Requests to the 429s found anywhere in the log (they are older
// than the rows the panel holds), Enter opens one with its request id and its whole error, a
// failed service action's whole output is read from the status line, and an invalid config
// edit still shows the routing table the gateway runs, under its errors.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageLog } from '../../src/usage/log.js';
import { cleanEnv, makeHome, sampleConfig, type TempHome } from '../helpers/config.js';
import { freePort } from '../helpers/gateway.js';
import { sampleRow } from '../helpers/usage.js';
import { FAKE_BIN_DIR, PTUI_BIN, bareBinDir, startTmux, tmuxAvailable, type TmuxSession } from '../helpers/tmux.js';

const LONG_ERROR =
  'rate limit reached for model gpt-4: 1 request per minute allowed for this key; ' +
  'the window resets within 60 seconds — retry after the time given in retry-after, ' +
  'or ask for a higher limit. THE-END-OF-THE-MESSAGE';

describe.skipIf(!tmuxAvailable())('console views: filter, detail, readable errors, routing under config errors', () => {
  let home: TempHome;
  let bin: string;
  let t: TmuxSession;
  const file = (name: string) => path.join(home.home, name);

  beforeAll(async () => {
    home = makeHome();
    bin = bareBinDir();
    // 12 rate-limited requests first, then 600 successes: the 429s are older than the 500
    // newest rows the panel holds, so only a search of the log finds them
    const log = UsageLog.open(path.join(home.runtimeDir, 'usage', 'llm_usage.db'));
    const start = Date.now() - 30 * 60_000;
    for (let i = 0; i < 12; i++) {
      log.insert(
        sampleRow({
          request_id: `rl-${String(i).padStart(4, '0')}`,
          timestamp: new Date(start + i * 1000).toISOString(),
          status: 'error',
          http_status: 429,
          error_type: 'rate_limit_exceeded',
          error_message: LONG_ERROR,
          attempts: 1,
        }),
      );
    }
    for (let i = 0; i < 600; i++) log.insert(sampleRow({ request_id: `ok-${i}`, timestamp: new Date(start + 60_000 + i * 1000).toISOString() }));
    await log.written();
    log.close();
    fs.mkdirSync(file('systemd'));
    fs.writeFileSync(file('systemd/vllm.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', MainPID: 0, failOnStart: true }));
    fs.writeFileSync(file('systemd/ollama.service.json'), JSON.stringify({ ActiveState: 'inactive', SubState: 'dead', MainPID: 0 }));
    t = await startTmux({
      argv: ['node', PTUI_BIN, '--home', home.home, '--port', String(await freePort()), '--no-gateway'],
      env: cleanEnv({ PATH: `${FAKE_BIN_DIR}:${bin}`, HOME: home.home, PTUI_SYSTEMD_DIR: file('systemd'), FAKE_SYSTEMD_STATE: file('systemd') }),
    });
    await t.waitForText(/ok 200/, 20_000);
  });

  afterAll(() => {
    t?.kill();
    home?.cleanup();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('filters Requests to the 429s of the whole log and says so in the title', async () => {
    t.sendKeys('6', '/', '4', '2', '9');
    await t.waitForText('/429█');
    await t.waitForText('filter: 429 · 12 of 612');
    t.sendKeys('Enter');
    const screen = await t.waitForText(/rate_limit_exceeded/);
    expect(screen).not.toMatch(/ok 200/);
  });

  it('opens a 429 on Enter: its request id and the whole error, wrapped', async () => {
    t.sendKeys('Enter');
    const screen = await t.waitForText(/Request rl-0011/);
    expect(screen).toMatch(/request id\s+rl-0011/);
    expect(screen).toContain('THE-END-OF-THE-MESSAGE');
    t.sendKeys('Escape');
    await t.waitForText('filter: 429 · 12 of 612');
    t.sendKeys('Escape'); // clears the filter
    await t.waitForText(/ok 200/);
  });

  it('keeps a failed action on the status line and reads its whole output on Enter', async () => {
    t.sendKeys('3', 's'); // vllm.service fails to start
    await t.waitForText(/start vllm\.service: Job for vllm\.service failed.*Enter reads all/);
    t.sendKeys('j'); // another service selected: the error stays
    await t.waitForText(/▸ ollama\.service[^]*Enter reads all/);
    t.sendKeys('Enter');
    const screen = await t.waitForText(/start vllm\.service failed/);
    expect(screen).toContain('journalctl -xeu vllm.service');
    t.sendKeys('Escape');
    await t.waitForScreen((s) => !s.includes('Enter reads all') && s.includes('6 Requests'), 'the error read and gone');
  });

  it('shows the routing table the gateway still runs under the errors of an invalid edit', async () => {
    const mappings = sampleConfig('mappings');
    mappings.models['gpt-4'].targets[0].provider = 'no-such-provider-' + 'x'.repeat(90) + '-END';
    fs.writeFileSync(path.join(home.configDir, 'model-mappings.yaml'), JSON.stringify(mappings));
    await t.waitForText(/config invalid/, 15_000);
    t.sendKeys('c');
    const screen = await t.waitForText(/What the gateway still runs/);
    expect(screen).toMatch(/Config errors/);
    expect(screen).toContain('-END');
    expect(screen).toMatch(/gpt-4\s+chat\s+ordered/);
  });
});
