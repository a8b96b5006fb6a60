// loadConfig in-process on real temp homes: the resolved shape others build on, overrides, and
// problems that need no child process to observe.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';
import { windowSeconds } from '../../src/config/schema.js';
import { makeHome, SAMPLE_CONFIG_DIR, sampleConfig, type HomeFiles, type TempHome } from '../helpers/config.js';

const homes: TempHome[] = [];
afterEach(() => {
  while (homes.length) homes.pop()!.cleanup();
});
function home(files: HomeFiles = {}): TempHome {
  const h = makeHome(files);
  homes.push(h);
  return h;
}

describe('windowSeconds', () => {
  it('follows ^[0-9]+(s|m|h|d|w|mo)$ with m = minutes and mo = 30 days', () => {
    expect(windowSeconds('45s')).toBe(45);
    expect(windowSeconds('30m')).toBe(1800);
    expect(windowSeconds('12h')).toBe(43200);
    expect(windowSeconds('1d')).toBe(86400);
    expect(windowSeconds('2w')).toBe(1209600);
    expect(windowSeconds('1mo')).toBe(2592000);
    expect(windowSeconds('0d')).toBe(0);
    for (const bad of ['1x', '-1h', '1.5h', 'd', '1 d', '1M', '']) expect(windowSeconds(bad)).toBeNaN();
  });
});

describe('loadConfig on the sample config', () => {
  it('resolves providers, models, capabilities, budgets and defaults', () => {
    const h = home();
    const { config, problems, paths } = loadConfig({ home: h.home, env: {} });
    expect(problems.every((p) => p.severity === 'warning')).toBe(true);
    expect(config).toBeDefined();
    const c = config!;
    expect(paths.configDir).toBe(h.configDir);
    expect(Object.keys(c.providers)).toEqual(['vllm', 'ollama', 'openai']);
    expect(c.providers.ollama.timeout_s).toBe(600);
    expect(c.providers.vllm.api_key).toBeUndefined(); // ${VLLM_API_KEY} unset = no key
    expect(c.models['gpt-4']).toMatchObject({ name: 'gpt-4', capability: 'chat' });
    expect(c.models['gpt-4'].targets.map((t) => t.provider)).toEqual(['vllm', 'openai']);
    expect(c.capabilities.chat).toEqual({});
    expect(c.systemctlScope).toBe('system');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(c.gateway.cache.enabled).toBe(false);
    expect(c.gateway.master_key).toBeUndefined();
    expect(c.budgets).toEqual([
      { scope: 'provider', target: 'vllm', max_budget_usd: 50, budget_window: '1d', window_seconds: 86400, action: 'warn' },
      { scope: 'provider', target: 'openai', max_budget_usd: 20, budget_window: '1d', window_seconds: 86400, action: 'block' },
      { scope: 'model', target: 'gpt-4', max_budget_usd: 5, budget_window: '12h', window_seconds: 43200, action: 'warn' },
      { scope: 'capability', target: 'code', max_budget_usd: 10, budget_window: '1d', window_seconds: 86400, action: 'warn' },
    ]);
    expect(c.unsetVars).toEqual(['AI_BACKEND_MASTER_KEY', 'OPENAI_API_KEY', 'VLLM_API_KEY']);
    expect(c.varRefs.map((r) => `${r.file} ${r.path.join('.')} ${r.name}`)).toEqual([
      'providers.yaml providers.vllm.api_key VLLM_API_KEY',
      'providers.yaml providers.openai.api_key OPENAI_API_KEY',
      'gateway.yaml master_key AI_BACKEND_MASTER_KEY',
    ]);
    // raw keeps what was written, for print and export
    expect((c.raw.providers as any).providers.openai.api_key).toBe('${OPENAI_API_KEY}');
  });

  it('resolves ${VAR} from the environment over .env', () => {
    const h = home({ env: { OPENAI_API_KEY: 'from-dotenv', VLLM_API_KEY: 'vllm-dotenv' } });
    const { config } = loadConfig({ home: h.home, env: { OPENAI_API_KEY: 'from-env' } });
    expect(config!.providers.openai.api_key).toBe('from-env');
    expect(config!.providers.vllm.api_key).toBe('vllm-dotenv');
    expect(config!.unsetVars).toEqual(['AI_BACKEND_MASTER_KEY']);
  });

  it('applies the environment overrides the README lists under "Paths and environment"', () => {
    const h = home();
    const { config } = loadConfig({
      home: h.home,
      env: {
        AI_BACKEND_MASTER_KEY: 'mk-1',
        AI_BACKEND_ENABLE_CACHE: 'true',
        AI_BACKEND_GATEWAY_HOST: '0.0.0.0',
        AI_BACKEND_GATEWAY_PORT: '4100',
        AI_BACKEND_CACHE_DIR: 'cache-here',
        AI_BACKEND_RUNTIME_DIR: 'rt',
      },
    });
    expect(config!.gateway.master_key).toBe('mk-1');
    expect(config!.gateway.cache.enabled).toBe(true);
    expect(config!.listen).toEqual({ host: '0.0.0.0', port: 4100 });
    expect(config!.paths.cacheDir).toBe(path.join(h.home, 'cache-here'));
    expect(config!.paths.runtimeDir).toBe(path.join(h.home, 'rt'));
    expect(config!.paths.budgetConfigJson).toBe(path.join(h.home, 'rt', 'budget_config.json'));
    expect(config!.paths.usageDb).toBe(path.join(h.home, 'rt', 'usage', 'llm_usage.db'));
  });

  it('flags beat variables: home, config dir, runtime dir, host, port', () => {
    const a = home();
    const b = home();
    fs.renameSync(b.configDir, path.join(b.home, 'conf2'));
    const { config } = loadConfig({
      home: b.home,
      configDir: 'conf2',
      runtimeDir: '/tmp/ptui-rt-test',
      host: '127.0.0.2',
      port: 0,
      env: { AI_BACKEND_HOME: a.home, AI_BACKEND_CONFIG_DIR: 'nope', AI_BACKEND_GATEWAY_PORT: '5000' },
    });
    expect(config!.paths.home).toBe(b.home);
    expect(config!.paths.configDir).toBe(path.join(b.home, 'conf2'));
    expect(config!.paths.runtimeDir).toBe('/tmp/ptui-rt-test');
    expect(config!.listen).toEqual({ host: '127.0.0.2', port: 0 });
  });

  it('AI_BACKEND_HOME and AI_BACKEND_CONFIG_DIR are used when no flag is given', () => {
    const h = home();
    fs.renameSync(h.configDir, path.join(h.home, 'etc'));
    const { config } = loadConfig({ env: { AI_BACKEND_HOME: h.home, AI_BACKEND_CONFIG_DIR: 'etc' } });
    expect(config!.paths.configDir).toBe(path.join(h.home, 'etc'));
  });

  it('accepts a bare `chat:` capability and AI_BACKEND_ENABLE_CACHE=false over gateway.yaml', () => {
    const m = sampleConfig('mappings');
    m.capabilities.chat = null;
    const h = home({ mappings: m, gateway: { cache: { enabled: true } } });
    const { config, problems } = loadConfig({ home: h.home, env: { AI_BACKEND_ENABLE_CACHE: 'false' } });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(config!.capabilities.chat).toEqual({});
    expect(config!.gateway.cache.enabled).toBe(false);
  });
});

describe('loadConfig problems', () => {
  it('returns no config and every problem when something is wrong', () => {
    const p = sampleConfig('providers');
    p.providers.vllm.type = 'tgi';
    const m = sampleConfig('mappings');
    m.models.code.targets[0].provider = 'olama';
    const h = home({ providers: p, mappings: m });
    const { config, problems } = loadConfig({ home: h.home, env: {} });
    expect(config).toBeUndefined();
    expect(problems.filter((x) => x.severity === 'error').map(formatProblem)).toEqual([
      'providers.yaml: providers.vllm.type: must be one of openai-compatible, ollama, openai; got string "tgi"',
      'model-mappings.yaml: models.code.targets[0].provider: unknown provider "olama" (known: vllm, ollama, openai)',
    ]);
  });

  it('a FIFO in place of a config file is reported without blocking', () => {
    const h = home({ providers: null });
    const fifo = path.join(h.configDir, 'providers.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const { config, problems } = loadConfig({ home: h.home, env: {} });
    expect(config).toBeUndefined();
    expect(problems[0]).toMatchObject({ file: 'providers.yaml', severity: 'error' });
    expect(problems[0].message).toContain('is not a regular file');
  });

  it('a dangling symlink counts as missing; a symlink to a real file is followed', () => {
    const h = home({ providers: null, gateway: null });
    fs.symlinkSync(path.join(h.home, 'nowhere.yaml'), path.join(h.configDir, 'providers.yaml'));
    const first = loadConfig({ home: h.home, env: {} });
    expect(first.problems.map(formatProblem)[0]).toBe(
      `providers.yaml: required file not found: ${path.join(h.configDir, 'providers.yaml')}`,
    );
    fs.writeFileSync(path.join(h.home, 'nowhere.yaml'), fs.readFileSync(path.join(SAMPLE_CONFIG_DIR, 'providers.yaml')));
    expect(loadConfig({ home: h.home, env: {} }).config).toBeDefined();
  });

  it('YAML syntax errors carry line and column', () => {
    const h = home({ mappings: 'capabilities:\n  chat: {}\nmodels:\n  a: [b\n' });
    const { problems } = loadConfig({ home: h.home, env: {} });
    const syntax = problems.find((p) => p.file === 'model-mappings.yaml')!;
    expect(syntax.line).toBeGreaterThan(0);
    expect(syntax.col).toBeGreaterThan(0);
    expect(formatProblem(syntax)).toMatch(/^model-mappings\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('a top level that is not a mapping', () => {
    const h = home({ providers: '- a\n- b\n' });
    const { problems } = loadConfig({ home: h.home, env: {} });
    expect(problems.map(formatProblem)).toContain('providers.yaml: top level must be a mapping of keys, got a list');
  });

  it('key paths quote names that contain dots', () => {
    const m = sampleConfig('mappings');
    m.models['llama-3.1'] = { capability: 'chat', targets: [{ provider: 'nope', model: 'x' }] };
    const h = home({ mappings: m });
    const { problems } = loadConfig({ home: h.home, env: {} });
    expect(problems.map(formatProblem)).toContain(
      'model-mappings.yaml: models["llama-3.1"].targets[0].provider: unknown provider "nope" (known: vllm, ollama, openai)',
    );
  });
});

describe('names the operator gives', () => {
  // They reach log lines, metric labels, the console and headers: an escape sequence or an
  // invisible character in one is refused at load, naming where it is.
  it.each([
    ['an escape sequence', 'llama\u001b[2J'],
    ['a zero-width space', 'lla\u200bma'],
    ['a bidi override', 'llama\u202e'],
    ['a line separator', 'llama\u2028x'],
  ])('a model, provider, capability or target model name with %s is refused', (_what, name) => {
    const p = sampleConfig('providers');
    p.providers[name] = p.providers.vllm;
    const m = sampleConfig('mappings');
    m.capabilities[name] = {};
    m.models[name] = { capability: 'chat', targets: [{ provider: 'vllm', model: name }] };
    const h = home({ providers: p, mappings: m });
    const { config, problems } = loadConfig({ home: h.home, env: {} });
    expect(config).toBeUndefined();
    const text = problems.filter((x) => x.severity === 'error').map(formatProblem);
    expect(text.filter((t) => t.includes('must not contain control or invisible characters')).length).toBeGreaterThanOrEqual(4);
    expect(text.some((t) => t.startsWith('providers.yaml:'))).toBe(true);
    expect(text.some((t) => t.includes('.targets[0].model'))).toBe(true);
    // The problem names the key with the character escaped, never printed raw to a terminal.
    for (const t of text) expect(t).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u);
  });

  it('a name over 256 characters is refused; ordinary names with dots, colons and slashes load', () => {
    const m = sampleConfig('mappings');
    m.models['x'.repeat(257)] = { capability: 'chat', targets: [{ provider: 'vllm', model: 'meta-llama/Llama-3.1-8B:q4.gguf' }] };
    expect(loadConfig({ home: home({ mappings: m }).home, env: {} }).problems.map(formatProblem).join('\n')).toMatch(/at most 256 characters/);
    const ok = sampleConfig('mappings');
    ok.models['team-a/llama-3.1:8b'] = { capability: 'chat', targets: [{ provider: 'vllm', model: 'meta-llama/Llama-3.1-8B:q4.gguf' }] };
    expect(loadConfig({ home: home({ mappings: ok }).home, env: {} }).config).toBeDefined();
  });
});

describe('formatProblem', () => {
  it('file: key.path: message, warnings marked, positions like a compiler', () => {
    expect(formatProblem({ file: 'a.yaml', path: 'x.y', message: 'bad', severity: 'error' })).toBe('a.yaml: x.y: bad');
    expect(formatProblem({ file: 'a.yaml', path: 'x', message: 'hm', severity: 'warning' })).toBe('a.yaml: x: warning: hm');
    expect(formatProblem({ file: 'a.yaml', path: '', message: 'gone', severity: 'error' })).toBe('a.yaml: gone');
    expect(formatProblem({ file: 'a.yaml', path: '', line: 3, col: 7, message: 'oops', severity: 'error' })).toBe(
      'a.yaml:3:7: oops',
    );
  });
});

describe('.env', () => {
  it('a .env that is a directory or a FIFO is ignored with a warning, never read', () => {
    for (const make of [(p: string) => fs.mkdirSync(p), (p: string) => spawnSync('mkfifo', [p])]) {
      const h = home();
      make(path.join(h.home, '.env'));
      const { config, problems } = loadConfig({ home: h.home, env: {} });
      expect(config).toBeDefined();
      expect(problems[0]).toMatchObject({ file: '.env', severity: 'warning' });
      expect(formatProblem(problems[0])).toBe(`.env: warning: ${path.join(h.home, '.env')} is not a regular file; ignored`);
    }
  });
});
