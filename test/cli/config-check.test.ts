// `ptui config check` as a child process against real temp homes: exit codes and the exact
// `file: key.path: message` lines for every bad input of a config file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHome, sampleConfig, type HomeFiles, type TempHome } from '../helpers/config.js';
import { PTUI_BIN, runPtui } from './run-ptui.js';

const IS_ROOT = process.getuid?.() === 0;
const CAN_TEST_EACCES =
  !IS_ROOT || spawnSync(process.execPath, [PTUI_BIN, '--version'], { uid: 65534, gid: 65534, cwd: '/' }).status === 0;

/** Every variable the sample config references, so a test sees only the lines it is about. */
const KEYS = { VLLM_API_KEY: 'x', OPENAI_API_KEY: 'y', AI_BACKEND_MASTER_KEY: 'z' };

const homes: TempHome[] = [];
afterEach(() => {
  while (homes.length) homes.pop()!.cleanup();
});

function home(files: HomeFiles = {}): TempHome {
  const h = makeHome(files);
  homes.push(h);
  return h;
}

function check(h: TempHome, env: Record<string, string> = {}) {
  return runPtui(['config', 'check', '--home', h.home], env);
}

/** The sample providers.yaml with one provider's fields replaced. */
function providersWith(name: string, patch: Record<string, unknown>) {
  const p = sampleConfig('providers');
  p.providers[name] = { ...p.providers[name], ...patch };
  return p;
}

describe('ptui config check: the sample config', () => {
  it('exits 0; unset ${VAR}s are warnings naming the file and key path', () => {
    const r = check(home());
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([
      'providers.yaml: providers.vllm.api_key: warning: ${VLLM_API_KEY} is not set',
      'providers.yaml: providers.openai.api_key: warning: ${OPENAI_API_KEY} is not set',
      'gateway.yaml: master_key: warning: ${AI_BACKEND_MASTER_KEY} is not set',
    ]);
    expect(r.stderr).toContain('OK (3 warnings)');
  });

  it('has no warnings once the variables are set, from the environment or from .env', () => {
    const r = check(home({ env: { VLLM_API_KEY: 'v-123456', AI_BACKEND_MASTER_KEY: 'mk-123456' } }), {
      OPENAI_API_KEY: 'sk-test-abcdef',
    });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([]);
  });

  it('the repo sample config itself passes (what a fresh clone runs)', () => {
    const r = runPtui(['config', 'check']);
    expect(r.status).toBe(0);
    expect(r.lines.every((l) => l.includes(': warning: '))).toBe(true);
  });
});

describe('ptui config check: files and directories', () => {
  it('config dir missing: names the path', () => {
    const h = home();
    fs.rmSync(h.configDir, { recursive: true });
    const r = check(h);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`${h.configDir}: config dir not found`]);
  });

  it('config dir given by --config-dir that is a file', () => {
    const h = home();
    const file = path.join(h.home, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const r = runPtui(['config', 'check', '--home', h.home, '--config-dir', 'not-a-dir']);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`${file}: config dir is not a directory`]);
  });

  it('required files missing: each named with its path; gateway.yaml is optional', () => {
    const h = home({ providers: null, mappings: null, gateway: null });
    const r = check(h);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      `providers.yaml: required file not found: ${path.join(h.configDir, 'providers.yaml')}`,
      `model-mappings.yaml: required file not found: ${path.join(h.configDir, 'model-mappings.yaml')}`,
    ]);
  });

  it('gateway.yaml absent is fine', () => {
    const r = check(home({ gateway: null }), KEYS);
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([]);
  });

  it('YAML syntax error: file:line:column', () => {
    const r = check(home({ gateway: 'cache: { enabled: true\nmax_body_bytes: 5\n' }));
    expect(r.status).toBe(1);
    expect(r.lines.filter((l) => l.startsWith('gateway.yaml'))).toEqual([
      expect.stringMatching(/^gateway\.yaml:2:1: YAML syntax error: /),
    ]);
  });

  it('a syntax error in one file does not hide problems in another', () => {
    const r = check(home({ providers: 'providers:\n  vllm: [\n', mappings: 'capabilities: {}\nmodels: {}\nextra: 1\n' }));
    expect(r.status).toBe(1);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.yaml:\d+:\d+: YAML syntax error: /),
        'model-mappings.yaml: models: at least one model is required',
        'model-mappings.yaml: extra: unknown key (allowed: capabilities, models)',
      ]),
    );
  });

  it('empty file, and a file with only comments', () => {
    const h = home({ providers: '', mappings: '# nothing here\n' });
    const r = check(h);
    expect(r.status).toBe(1);
    expect(errorLines(r)).toEqual([
      `providers.yaml: file is empty: ${path.join(h.configDir, 'providers.yaml')}`,
      `model-mappings.yaml: file is empty (only comments): ${path.join(h.configDir, 'model-mappings.yaml')}`,
    ]);
  });

  it('an empty or comment-only gateway.yaml (optional) means all defaults', () => {
    for (const text of ['', '# all defaults\n', '---\n# nothing\n']) {
      const r = check(home({ gateway: text }), KEYS);
      expect(r.status).toBe(0);
      expect(r.lines).toEqual([]);
    }
  });

  it('a key indented one space too deep: one line naming the line and the fix', () => {
    const mappings = 'capabilities:\n  chat: {}\nmodels:\n  gpt-4:\n    capability: chat\n     targets:\n      - { provider: vllm, model: m }\n';
    const r = check(home({ mappings }), KEYS);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      'model-mappings.yaml:6:6: YAML indentation: line 6 ("targets:") is indented 5 spaces, but line 5 ("capability: chat") above it is at 4 and opens no block: indent it by 4 spaces',
    ]);
  });

  it('a key that lines up with no block, and a list item key off by one', () => {
    const dedent = 'capabilities:\n  chat: {}\nmodels:\n  a:\n    capability: chat\n    targets: [{ provider: vllm, model: m }]\n   b:\n    capability: chat\n';
    const r = check(home({ mappings: dedent }), KEYS);
    expect(r.lines).toEqual([
      'model-mappings.yaml:7:4: YAML indentation: line 7 ("b:") is indented 3 spaces, which lines up with no block above (0, 2): indent it by 2 spaces',
    ]);
    const item = 'capabilities:\n  chat: {}\nmodels:\n  a:\n    capability: chat\n    targets:\n      - provider: vllm\n         model: m\n';
    const r2 = check(home({ mappings: item }), KEYS);
    expect(r2.lines).toEqual([
      'model-mappings.yaml:8:10: YAML indentation: line 8 ("model: m") is indented 9 spaces, but line 7 ("- provider: vllm") above it is at 6 and opens no block: indent it by 8 spaces',
    ]);
  });

  it('a tab in the indentation: one line, not the parser cascade', () => {
    const mappings = 'capabilities:\n  chat: {}\nmodels:\n  gpt-4:\n\tcapability: chat\n    targets:\n      - { provider: vllm, model: m }\n';
    const r = check(home({ mappings }), KEYS);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      'model-mappings.yaml:5:1: YAML indentation: line 5 is indented with a tab; YAML indents with spaces only: replace the tab with spaces',
    ]);
  });

  it('merge keys (<<: *defaults) work, with anchors kept under a top-level x- key', () => {
    const mappings = [
      'capabilities: { chat: {} }',
      'x-defaults: &defaults',
      '  capability: chat',
      '  targets: [{ provider: vllm, model: base }]',
      'models:',
      '  a:',
      '    <<: *defaults',
      '  b:',
      '    <<: *defaults',
      '    targets: [{ provider: ollama, model: other }]',
      '',
    ].join('\n');
    const h = home({ mappings });
    const r = check(h, KEYS);
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([]);
    const printed = JSON.parse(runPtui(['config', 'print', '--json', '--home', h.home], KEYS).stdout);
    expect(JSON.stringify(printed)).toContain('other');
    expect(JSON.stringify(printed)).toContain('base');
  });

  it('an unset ${VAR} in a required field is reported once, as the error', () => {
    const p = sampleConfig('providers');
    p.providers.vllm.api_base = '${VLLM_BASE}';
    const r = check(home({ providers: p }), KEYS);
    expect(r.status).toBe(1);
    expect(r.lines.filter((l) => l.includes('VLLM_BASE'))).toEqual([
      'providers.yaml: providers.vllm.api_base: required, but ${VLLM_BASE} is not set',
    ]);
  });

  it('a path that is a directory', () => {
    const h = home({ providers: null });
    fs.mkdirSync(path.join(h.configDir, 'providers.yaml'));
    const r = check(h);
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe(`providers.yaml: ${path.join(h.configDir, 'providers.yaml')} is a directory, not a file`);
  });

  it('a FIFO is reported, not read (a plain read would block forever)', () => {
    const h = home({ mappings: null });
    const fifo = path.join(h.configDir, 'model-mappings.yaml');
    const mk = runMkfifo(fifo);
    expect(mk).toBe(0);
    const r = check(h);
    expect(r.status).toBe(1);
    expect(errorLines(r)[0]).toBe(
      `model-mappings.yaml: ${fifo} is not a regular file (a FIFO, socket or device cannot be a config file)`,
    );
  });

  it('unreadable: a symlink loop (ELOOP)', () => {
    const h = home({ providers: null });
    const p = path.join(h.configDir, 'providers.yaml');
    fs.symlinkSync(p, p);
    const r = check(h);
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe(`providers.yaml: cannot read ${p}: too many levels of symbolic links (ELOOP)`);
  });

  // Root reads mode-000 files, so as root the check runs as `nobody`; skipped (and shown as
  // skipped) only where nobody cannot even run ptui from this checkout (e.g. a repo under /root).
  it.skipIf(!CAN_TEST_EACCES)('unreadable: mode 000, run as an unprivileged user (root would read it anyway)', () => {
    const h = home();
    const p = path.join(h.configDir, 'providers.yaml');
    fs.chmodSync(p, 0o000);
    // mkdtemp makes the home 0700; the unprivileged child must be able to reach the files.
    fs.chmodSync(h.home, 0o755);
    fs.chmodSync(h.configDir, 0o755);
    const asNobody = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
    const r = runPtui(['config', 'check', '--home', h.home], {}, { ...asNobody, cwd: '/' });
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe(`providers.yaml: cannot read ${p}: permission denied (EACCES)`);
  });
});

function errorLines(r: { lines: string[] }): string[] {
  return r.lines.filter((l) => !l.includes(': warning: '));
}

function runMkfifo(p: string): number | null {
  // Node has no mkfifo; coreutils does.
  return spawnSync('mkfifo', [p]).status;
}

describe('ptui config check: content', () => {
  const cases: { name: string; files: HomeFiles; lines: string[] }[] = [
    {
      name: 'wrong types',
      files: { providers: providersWith('vllm', { timeout_s: 'ten', api_base: 8000 }) },
      lines: [
        'providers.yaml: providers.vllm.api_base: expected string, got number 8000',
        'providers.yaml: providers.vllm.timeout_s: expected number, got string "ten"',
      ],
    },
    {
      name: 'unknown keys, with a guess when one is close',
      files: { providers: providersWith('ollama', { api_bse: 'x', colour: 'red' }) },
      lines: [
        'providers.yaml: providers.ollama.api_bse: unknown key (did you mean "api_base"?)',
        'providers.yaml: providers.ollama.colour: unknown key (allowed: type, api_base, api_key, service, health_url, timeout_s, first_token_timeout_s, idle_timeout_s, budget, engine, metrics_url, gpu_usd_per_hour, responses, saturation, cooldown)',
      ],
    },
    {
      name: 'dangling references: the SPEC example, exactly, and an unknown capability',
      files: {
        mappings: (() => {
          const m = sampleConfig('mappings');
          m.models['gpt-4'].targets[1].provider = 'opneai';
          m.models.code.capability = 'coding';
          return m;
        })(),
      },
      lines: [
        'model-mappings.yaml: models.gpt-4.targets[1].provider: unknown provider "opneai" (known: vllm, ollama, openai)',
        'model-mappings.yaml: models.code.capability: unknown capability "coding" (known: chat, code, embeddings)',
      ],
    },
    {
      name: 'duplicate names (a provider defined twice)',
      files: {
        providers:
          'providers:\n  vllm:\n    type: openai-compatible\n    api_base: http://127.0.0.1:8000/v1\n' +
          '  vllm:\n    type: ollama\n    api_base: http://127.0.0.1:11434/v1\n',
        mappings: 'capabilities: { chat: {} }\nmodels:\n  m: { capability: chat, targets: [{ provider: vllm, model: x }] }\n',
        gateway: null,
      },
      lines: ['providers.yaml: providers.vllm: duplicate key "vllm" (line 5; first defined at line 2)'],
    },
    {
      name: 'duplicate model names and a duplicate target',
      files: {
        mappings:
          'capabilities: { chat: {} }\nmodels:\n  m: { capability: chat, targets: [{ provider: vllm, model: x }] }\n' +
          '  m:\n    capability: chat\n    targets:\n      - { provider: vllm, model: x }\n      - { provider: vllm, model: x }\n',
      },
      lines: [
        'model-mappings.yaml: models.m: duplicate key "m" (line 4; first defined at line 3)',
        'model-mappings.yaml: models.m.targets[1]: duplicate target vllm/x (the fallback would retry the same upstream)',
      ],
    },
    {
      name: 'two providers controlling the same systemd unit',
      files: { providers: providersWith('ollama', { service: 'vllm.service' }) },
      lines: ['providers.yaml: providers.ollama.service: unit "vllm.service" is already used by provider "vllm"'],
    },
    {
      name: 'invalid URLs',
      files: { providers: providersWith('vllm', { api_base: 'localhost:8000/v1', health_url: 'ftp://x/health' }) },
      lines: [
        'providers.yaml: providers.vllm.api_base: not a valid http(s) URL (got "localhost:8000/v1")',
        'providers.yaml: providers.vllm.health_url: not a valid http(s) URL (got "ftp://x/health")',
      ],
    },
    {
      name: 'bad windows: 1x, 0d, -1h',
      files: {
        mappings: (() => {
          const m = sampleConfig('mappings');
          m.capabilities.code.budget.budget_window = '1x';
          m.capabilities.chat = { budget: { max_budget_usd: 1, budget_window: '0d' } };
          m.models['gpt-4'].budget.budget_window = '-1h';
          return m;
        })(),
      },
      lines: [
        'model-mappings.yaml: capabilities.chat.budget.budget_window: window must be longer than zero (got "0d")',
        'model-mappings.yaml: capabilities.code.budget.budget_window: must match ^[0-9]+(s|m|h|d|w|mo)$ (e.g. 30m, 12h, 1d, 1mo) (got "1x")',
        'model-mappings.yaml: models.gpt-4.budget.budget_window: must match ^[0-9]+(s|m|h|d|w|mo)$ (e.g. 30m, 12h, 1d, 1mo) (got "-1h")',
      ],
    },
    {
      name: 'zero and negative budgets, unknown action',
      files: {
        providers: (() => {
          const p = sampleConfig('providers');
          p.providers.vllm.budget.max_budget_usd = 0;
          p.providers.openai.budget = { max_budget_usd: -5, budget_window: '1d', action: 'stop' };
          return p;
        })(),
      },
      lines: [
        'providers.yaml: providers.vllm.budget.max_budget_usd: must be > 0',
        'providers.yaml: providers.openai.budget.max_budget_usd: must be > 0',
        'providers.yaml: providers.openai.budget.action: must be one of warn, block; got string "stop"',
      ],
    },
    {
      name: 'a model with no targets, and one without the key',
      files: {
        mappings: (() => {
          const m = sampleConfig('mappings');
          m.models['gpt-4'].targets = [];
          delete m.models.code.targets;
          return m;
        })(),
      },
      lines: [
        'model-mappings.yaml: models.gpt-4.targets: a model needs at least one target',
        'model-mappings.yaml: models.code.targets: required',
      ],
    },
    {
      name: 'a unit name with shell metacharacters, a path, or a leading dash',
      files: {
        providers: (() => {
          const p = sampleConfig('providers');
          p.providers.vllm.service = 'vllm.service; rm -rf /';
          p.providers.ollama.service = '/etc/systemd/system/ollama.service';
          p.providers.openai.service = '--now.service';
          return p;
        })(),
      },
      lines: [
        'providers.yaml: providers.vllm.service: must be a plain systemd unit name such as vllm.service (no spaces, paths or shell characters) (got "vllm.service; rm -rf /")',
        'providers.yaml: providers.ollama.service: must be a plain systemd unit name such as vllm.service (no spaces, paths or shell characters) (got "/etc/systemd/system/ollama.service")',
        'providers.yaml: providers.openai.service: must be a plain systemd unit name such as vllm.service (no spaces, paths or shell characters) (got "--now.service")',
      ],
    },
    {
      name: 'a required value that is only an unset ${VAR}',
      files: { providers: providersWith('vllm', { api_base: '${VLLM_URL}' }) },
      lines: ['providers.yaml: providers.vllm.api_base: required, but ${VLLM_URL} is not set'],
    },
    {
      name: 'gateway.yaml: bad guardrail action, callback path escaping home, missing callback module',
      files: { gateway: { guardrails: { secrets: { action: 'shout' } }, callbacks: ['../evil.js', 'cb/missing.js'] } },
      lines: [
        'gateway.yaml: guardrails.secrets.action: must be one of block, redact, warn; got string "shout"',
        'gateway.yaml: callbacks[0]: callback path must be relative to home and must not contain ".." (got "../evil.js")',
      ],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const r = check(home(c.files), { VLLM_API_KEY: 'x', OPENAI_API_KEY: 'y', AI_BACKEND_MASTER_KEY: 'z' });
      expect(r.status).toBe(1);
      expect(errorLines(r)).toEqual(c.lines);
      expect(r.stderr).toMatch(new RegExp(`${c.lines.length} errors?`));
    });
  }

  it('a callback module that does not exist is an error; one that exists is fine', () => {
    const h = home({ gateway: { callbacks: ['cb/mine.js', 'cb/missing.js'] } });
    fs.mkdirSync(path.join(h.home, 'cb'));
    fs.writeFileSync(path.join(h.home, 'cb', 'mine.js'), 'export default class {}\n');
    const r = check(h, KEYS);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gateway.yaml: callbacks[1]: callback module not found: ${path.join(h.home, 'cb', 'missing.js')}`]);
  });

  it('every problem in every file in one run', () => {
    const p = sampleConfig('providers');
    p.providers.vllm.service = 'vllm.service; rm -rf /';
    p.providers.ollama.budget = { max_budget_usd: 0, budget_window: '1x' };
    const m = sampleConfig('mappings');
    m.models['gpt-4'].targets[1].provider = 'opneai';
    m.models.code.targets = [];
    const r = check(home({ providers: p, mappings: m, gateway: 'master_key: [\n' }));
    expect(r.status).toBe(1);
    expect(errorLines(r).map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'providers.yaml: providers.vllm.service',
      'providers.yaml: providers.ollama.budget.max_budget_usd',
      'providers.yaml: providers.ollama.budget.budget_window',
      'model-mappings.yaml: models.code.targets',
      'model-mappings.yaml: models.gpt-4.targets[1].provider',
      expect.stringMatching(/^gateway\.yaml:\d+/),
    ]);
  });

  it('a literal API key is a warning, and its value is never printed', () => {
    const r = check(home({ providers: providersWith('openai', { api_key: 'sk-literal-abcdef123456' }) }), {
      VLLM_API_KEY: 'x',
    });
    expect(r.status).toBe(0);
    expect(r.lines).toContain(
      'providers.yaml: providers.openai.api_key: warning: secret written literally in the config file; use ${VAR} and put the value in the environment or .env',
    );
    expect(r.stdout + r.stderr).not.toContain('sk-literal-abcdef123456');
  });

  it('a value from a ${VAR} is never echoed in an error', () => {
    const r = check(home({ providers: providersWith('vllm', { timeout_s: '${VLLM_TIMEOUT}' }) }), {
      VLLM_API_KEY: 'x',
      OPENAI_API_KEY: 'y',
      VLLM_TIMEOUT: 'secret-ish-value',
    });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('providers.yaml: providers.vllm.timeout_s: expected number, got a string from ${VLLM_TIMEOUT}');
    expect(r.stdout).not.toContain('secret-ish-value');
  });

  it('an invalid AI_BACKEND_GATEWAY_PORT is reported', () => {
    const r = check(home(), { AI_BACKEND_GATEWAY_PORT: '99999' });
    expect(r.status).toBe(1);
    expect(r.lines).toContain('environment: AI_BACKEND_GATEWAY_PORT: invalid port "99999" (must be 0-65535)');
  });
});
