// `ptui config export` as a child process: both files written, LiteLLM's format, no secrets.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { makeHome, sampleConfig, type HomeFiles, type TempHome } from '../helpers/config.js';
import { runPtui } from './run-ptui.js';

const homes: TempHome[] = [];
afterEach(() => {
  while (homes.length) homes.pop()!.cleanup();
});
function home(files: HomeFiles = {}): TempHome {
  const h = makeHome(files);
  homes.push(h);
  return h;
}

const HAS_PYYAML = spawnSync('python3', ['-c', 'import yaml']).status === 0;

const SECRETS = {
  OPENAI_API_KEY: 'sk-proj-TESTSECRETVALUE0123456789',
  VLLM_API_KEY: 'vllm-secret-key-987654321',
  AI_BACKEND_MASTER_KEY: 'master-secret-key-555555',
};

function exportIn(h: TempHome, env: Record<string, string> = {}) {
  const r = runPtui(['config', 'export', '--home', h.home], env);
  const budgetPath = path.join(h.runtimeDir, 'budget_config.json');
  const litellmPath = path.join(h.runtimeDir, 'litellm_config.yaml');
  return { r, budgetPath, litellmPath };
}

describe('ptui config export', () => {
  it('writes budget_config.json with every budget', () => {
    const h = home();
    const { r, budgetPath } = exportIn(h, SECRETS);
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([`wrote ${budgetPath} (4 budgets)`, `wrote ${path.join(h.runtimeDir, 'litellm_config.yaml')}`]);
    const doc = JSON.parse(fs.readFileSync(budgetPath, 'utf8'));
    expect(Number.isNaN(Date.parse(doc.generated_at))).toBe(false);
    expect(doc.budgets).toEqual([
      { scope: 'provider', target: 'vllm', max_budget_usd: 50, budget_window: '1d', window_seconds: 86400, action: 'warn' },
      { scope: 'provider', target: 'openai', max_budget_usd: 20, budget_window: '1d', window_seconds: 86400, action: 'block' },
      { scope: 'model', target: 'gpt-4', max_budget_usd: 5, budget_window: '12h', window_seconds: 43200, action: 'warn' },
      { scope: 'capability', target: 'code', max_budget_usd: 10, budget_window: '1d', window_seconds: 86400, action: 'warn' },
    ]);
  });

  it('writes a LiteLLM config: one model_list entry per target, prefixes, bases, keys by reference, costs, order', () => {
    const h = home();
    const { r, litellmPath } = exportIn(h, SECRETS);
    expect(r.status).toBe(0);
    const doc = YAML.parse(fs.readFileSync(litellmPath, 'utf8'));
    expect(doc.model_list).toEqual([
      {
        model_name: 'gpt-4',
        litellm_params: {
          model: 'openai/meta-llama/Llama-3.1-70B-Instruct',
          api_base: 'http://127.0.0.1:8000/v1',
          api_key: 'os.environ/VLLM_API_KEY',
          input_cost_per_token: 0,
          output_cost_per_token: 0,
          timeout: 600,
          order: 1,
        },
      },
      {
        model_name: 'gpt-4',
        litellm_params: {
          model: 'openai/gpt-4o',
          api_base: 'https://api.openai.com/v1',
          api_key: 'os.environ/OPENAI_API_KEY',
          input_cost_per_token: 2.5e-6,
          output_cost_per_token: 1e-5,
          timeout: 600,
          order: 2,
        },
      },
      {
        model_name: 'code',
        litellm_params: {
          model: 'ollama_chat/qwen2.5-coder:7b',
          api_base: 'http://127.0.0.1:11434',
          input_cost_per_token: 0,
          output_cost_per_token: 0,
          timeout: 600,
          order: 1,
        },
      },
      {
        model_name: 'embed',
        litellm_params: {
          model: 'ollama/nomic-embed-text',
          api_base: 'http://127.0.0.1:11434',
          input_cost_per_token: 0,
          output_cost_per_token: 0,
          timeout: 600,
          order: 1,
        },
        model_info: { mode: 'embedding' },
      },
    ]);
    expect(doc.router_settings.provider_budget_config).toEqual({
      vllm: { budget_limit: 50, time_period: '1d' },
      openai: { budget_limit: 20, time_period: '1d' },
    });
    expect(doc.litellm_settings.callbacks).toEqual(['prometheus']);
    expect(doc.litellm_settings.cache).toBeUndefined();
    expect(doc.general_settings).toEqual({ master_key: 'os.environ/AI_BACKEND_MASTER_KEY' });
  });

  it('lists the model and capability budgets LiteLLM cannot express in a comment block', () => {
    const m = sampleConfig('mappings');
    m.models['odd name'] = { capability: 'chat', budget: { max_budget_usd: 1, budget_window: '1h', action: 'block' }, targets: [{ provider: 'vllm', model: 'x' }] };
    const h = home({ mappings: m });
    const { r, litellmPath } = exportIn(h, SECRETS);
    expect(r.status).toBe(0);
    const comments = fs.readFileSync(litellmPath, 'utf8').split('\n').filter((l) => l.startsWith('#'));
    expect(comments.slice(2)).toEqual([
      "# Budgets LiteLLM's config cannot express (ptui enforces them; they are in budget_config.json):",
      '#   model gpt-4: max_budget_usd 5 per 12h, action warn',
      '#   model "odd name": max_budget_usd 1 per 1h, action block',
      '#   capability code: max_budget_usd 10 per 1d, action warn',
    ]);
    // The provider budgets are real settings, not comments.
    expect(YAML.parse(fs.readFileSync(litellmPath, 'utf8')).router_settings.provider_budget_config.vllm).toEqual({
      budget_limit: 50,
      time_period: '1d',
    });
  });

  it('writes os.environ/VAR only for variables that are set, and warns about the others', () => {
    const h = home();
    const { r, litellmPath } = exportIn(h, { OPENAI_API_KEY: SECRETS.OPENAI_API_KEY });
    expect(r.status).toBe(0);
    const doc = YAML.parse(fs.readFileSync(litellmPath, 'utf8'));
    const keyOf = (model: string) => doc.model_list.find((e: any) => e.litellm_params.model === model).litellm_params.api_key;
    expect(keyOf('openai/meta-llama/Llama-3.1-70B-Instruct')).toBeUndefined();
    expect(keyOf('openai/gpt-4o')).toBe('os.environ/OPENAI_API_KEY');
    expect(r.stderr).toContain(
      'litellm_config.yaml: providers.vllm.api_key: warning: not exported: ${VLLM_API_KEY} is not set, so the entry has no api_key',
    );
    expect(r.stderr).not.toContain('providers.openai.api_key: warning');
  });

  it('contains no secret value in either file, even with every variable set', () => {
    const h = home({ env: { VLLM_API_KEY: SECRETS.VLLM_API_KEY } });
    const { r, budgetPath, litellmPath } = exportIn(h, { OPENAI_API_KEY: SECRETS.OPENAI_API_KEY, AI_BACKEND_MASTER_KEY: SECRETS.AI_BACKEND_MASTER_KEY });
    expect(r.status).toBe(0);
    const written = fs.readFileSync(litellmPath, 'utf8') + fs.readFileSync(budgetPath, 'utf8') + r.stdout + r.stderr;
    for (const v of Object.values(SECRETS)) expect(written).not.toContain(v);
  });

  it('adds the disk cache settings when the cache is on', () => {
    const h = home({ gateway: { cache: { enabled: true, ttl_s: 600 } } });
    const { litellmPath } = exportIn(h, SECRETS);
    const doc = YAML.parse(fs.readFileSync(litellmPath, 'utf8'));
    expect(doc.litellm_settings).toEqual({
      callbacks: ['prometheus'],
      cache: true,
      cache_params: { type: 'disk', disk_cache_dir: path.join(h.home, '.litellm_cache'), ttl: 600 },
    });
  });

  it('AI_BACKEND_ENABLE_CACHE=true turns the cache on in the export', () => {
    const h = home();
    const { litellmPath } = exportIn(h, { ...SECRETS, AI_BACKEND_ENABLE_CACHE: 'true', AI_BACKEND_CACHE_DIR: '/var/cache/ptui' });
    const doc = YAML.parse(fs.readFileSync(litellmPath, 'utf8'));
    expect(doc.litellm_settings.cache_params.disk_cache_dir).toBe('/var/cache/ptui');
  });

  it('never writes a literal key or URL credentials; says what it left out', () => {
    const p = sampleConfig('providers');
    p.providers.openai.api_key = 'sk-literal-SHOULDNOTAPPEAR';
    p.providers.vllm.api_base = 'http://admin:hunter2hunter2@127.0.0.1:8000/v1?api_key=qwertyuiop';
    const h = home({ providers: p, gateway: { master_key: 'literal-master-SHOULDNOTAPPEAR' } });
    const { r, litellmPath } = exportIn(h, { VLLM_API_KEY: 'x' });
    expect(r.status).toBe(0);
    const text = fs.readFileSync(litellmPath, 'utf8');
    for (const s of ['sk-literal-SHOULDNOTAPPEAR', 'hunter2hunter2', 'qwertyuiop', 'literal-master-SHOULDNOTAPPEAR']) {
      expect(text).not.toContain(s);
      expect(r.stdout + r.stderr).not.toContain(s);
    }
    const doc = YAML.parse(text);
    expect(doc.model_list[0].litellm_params.api_base).toBe('http://127.0.0.1:8000/v1');
    expect(doc.model_list[1].litellm_params.api_key).toBeUndefined();
    expect(doc.general_settings).toBeUndefined();
    expect(r.stderr).toContain('litellm_config.yaml: providers.openai.api_key: warning: not exported');
    expect(r.stderr).toContain('litellm_config.yaml: providers.vllm.api_base: warning: credentials in the URL were left out');
    expect(r.stderr).toContain('litellm_config.yaml: general_settings.master_key: warning: not exported');
  });

  // Skipped (and shown as skipped) where python3 with PyYAML is not installed.
  it.skipIf(!HAS_PYYAML)('writes YAML that PyYAML (what LiteLLM uses) reads with the same types', () => {
    const m = sampleConfig('mappings');
    m.models['gpt-4'].targets[1].pricing = { input_usd_per_1m: 0.1, output_usd_per_1m: 0.4 };
    m.models.on = { capability: 'chat', targets: [{ provider: 'vllm', model: 'yes' }] };
    const h = home({ mappings: m });
    const { litellmPath } = exportIn(h, SECRETS);
    const out = spawnSync(
      'python3',
      ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', litellmPath],
      { encoding: 'utf8' },
    );
    expect(out.status).toBe(0);
    const doc = JSON.parse(out.stdout);
    const gpt4o = doc.model_list[1].litellm_params;
    expect(gpt4o.input_cost_per_token).toBeCloseTo(1e-7, 15);
    expect(typeof gpt4o.input_cost_per_token).toBe('number');
    expect(gpt4o.output_cost_per_token).toBeCloseTo(4e-7, 15);
    const on = doc.model_list.find((e: { model_name: unknown }) => e.model_name === 'on');
    expect(on.litellm_params.model).toBe('openai/yes');
  });

  it('replaces existing files atomically and leaves no temp files', () => {
    const h = home();
    fs.mkdirSync(h.runtimeDir, { recursive: true });
    fs.writeFileSync(path.join(h.runtimeDir, 'litellm_config.yaml'), 'old');
    const { r, litellmPath } = exportIn(h, SECRETS);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(litellmPath, 'utf8')).toContain('model_list:');
    expect(fs.readdirSync(h.runtimeDir).sort()).toEqual(['budget_config.json', 'litellm_config.yaml']);
  });

  it('writes nothing and exits 1 when the config has errors', () => {
    const m = sampleConfig('mappings');
    m.models.code.targets = [];
    const h = home({ mappings: m });
    const { r, budgetPath, litellmPath } = exportIn(h, SECRETS);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('model-mappings.yaml: models.code.targets: a model needs at least one target');
    expect(fs.existsSync(budgetPath)).toBe(false);
    expect(fs.existsSync(litellmPath)).toBe(false);
  });

  it('honours --runtime-dir', () => {
    const h = home();
    const rt = path.join(h.home, 'elsewhere');
    const r = runPtui(['config', 'export', '--home', h.home, '--runtime-dir', rt], SECRETS);
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(rt, 'budget_config.json'))).toBe(true);
    expect(fs.existsSync(path.join(rt, 'litellm_config.yaml'))).toBe(true);
  });
});
