// `ptui config print` and scripts/print-logical-config: the routing table and budgets, redacted.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, makeHome, REPO_ROOT, sampleConfig, type HomeFiles, type TempHome } from '../helpers/config.js';
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

const SECRETS = {
  OPENAI_API_KEY: 'sk-proj-PRINTSECRET0123456789',
  AI_BACKEND_MASTER_KEY: 'master-PRINTSECRET-4242',
};
const DOTENV_SECRET = 'vllm-dotenv-PRINTSECRET-77';

describe('ptui config print', () => {
  it('text: routing table with every target in order, providers, budgets, gateway', () => {
    const h = home();
    const r = runPtui(['config', 'print', '--home', h.home], SECRETS);
    expect(r.status).toBe(0);
    const row = (...cells: string[]) => new RegExp(cells.map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('\\s+'));
    expect(r.stdout).toMatch(
      row('gpt-4', 'chat', '1', 'vllm', 'openai-compatible', 'http://127.0.0.1:8000/v1', 'meta-llama/Llama-3.1-70B-Instruct', 'free'),
    );
    expect(r.stdout).toMatch(row('2', 'openai', 'openai', 'https://api.openai.com/v1', 'gpt-4o', '$2.5 in / $10 out per 1M'));
    expect(r.stdout).toMatch(row('code', 'code', '1', 'ollama', 'ollama', 'http://127.0.0.1:11434/v1', 'qwen2.5-coder:7b', 'free'));
    expect(r.stdout).toMatch(row('provider', 'openai', '20.00', '1d', '86400', 'block'));
    expect(r.stdout).toMatch(row('model', 'gpt-4', '5.00', '12h', '43200', 'warn'));
    expect(r.stdout).toMatch(row('capability', 'code', '10.00', '1d', '86400', 'warn'));
    expect(r.stdout).toContain('${OPENAI_API_KEY} (set)');
    expect(r.stdout).toContain('${VLLM_API_KEY} (unset)');
    expect(r.stdout).toContain('${AI_BACKEND_MASTER_KEY} (set)');
    for (const v of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
  });

  it('shows balanced routing and the fallbacks after the targets, in text and JSON', () => {
    const mappings = sampleConfig('mappings');
    mappings.models['gpt-4'].routing = 'balanced';
    mappings.models['gpt-4'].fallbacks = [{ provider: 'ollama', model: 'llama3:8b' }];
    const h = home({ mappings });
    const text = runPtui(['config', 'print', '--home', h.home], SECRETS);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/gpt-4 \(balanced\)\s+chat\s+1\s+vllm/);
    expect(text.stdout).toMatch(/3 fallback\s+ollama\s+ollama\s+http:\/\/127\.0\.0\.1:11434\/v1\s+llama3:8b\s+free/);
    const lc = JSON.parse(runPtui(['config', 'print', '--json', '--home', h.home], SECRETS).stdout);
    expect(lc.routes[0].routing).toBe('balanced');
    expect(lc.routes[0].targets.map((t: { order: number; provider: string; fallback: boolean }) => [t.order, t.provider, t.fallback])).toEqual([
      [1, 'vllm', false],
      [2, 'openai', false],
      [3, 'ollama', true],
    ]);
  });

  it('--json: the same content for machines, no secret values', () => {
    const h = home({ env: { VLLM_API_KEY: DOTENV_SECRET } });
    const r = runPtui(['config', 'print', '--json', '--home', h.home], SECRETS);
    expect(r.status).toBe(0);
    for (const v of [...Object.values(SECRETS), DOTENV_SECRET]) expect(r.stdout).not.toContain(v);
    const lc = JSON.parse(r.stdout);
    expect(lc.routes.map((x: { model: string }) => x.model)).toEqual(['gpt-4', 'code', 'embed']);
    expect(lc.routes[0]).toEqual({
      model: 'gpt-4',
      capability: 'chat',
      routing: 'ordered',
      targets: [
        {
          order: 1,
          provider: 'vllm',
          type: 'openai-compatible',
          api_base: 'http://127.0.0.1:8000/v1',
          model: 'meta-llama/Llama-3.1-70B-Instruct',
          pricing: null,
          fallback: false,
        },
        {
          order: 2,
          provider: 'openai',
          type: 'openai',
          api_base: 'https://api.openai.com/v1',
          model: 'gpt-4o',
          pricing: { input_usd_per_1m: 2.5, output_usd_per_1m: 10 },
          fallback: false,
        },
      ],
    });
    expect(lc.budgets).toHaveLength(4);
    expect(lc.budgets[0]).toEqual({
      scope: 'provider',
      target: 'vllm',
      max_budget_usd: 50,
      budget_window: '1d',
      window_seconds: 86400,
      action: 'warn',
    });
    expect(lc.providers.find((p: { name: string }) => p.name === 'vllm').api_key).toBe('${VLLM_API_KEY} (set)');
    expect(lc.gateway).toMatchObject({ listen: '127.0.0.1:4000', master_key: '${AI_BACKEND_MASTER_KEY} (set)', auth: true });
    expect(lc.variables).toEqual([
      { name: 'AI_BACKEND_MASTER_KEY', set: true, used_at: ['gateway.yaml: master_key'] },
      { name: 'OPENAI_API_KEY', set: true, used_at: ['providers.yaml: providers.openai.api_key'] },
      { name: 'VLLM_API_KEY', set: true, used_at: ['providers.yaml: providers.vllm.api_key'] },
    ]);
  });

  it('masks credentials in URLs and hides literal keys, in text and JSON', () => {
    const p = sampleConfig('providers');
    p.providers.vllm.api_base = 'http://admin:pa55w0rd-PRINT@127.0.0.1:8000/v1';
    p.providers.vllm.health_url = 'http://127.0.0.1:8000/health?token=tok-PRINT-123';
    p.providers.openai.api_key = 'sk-literal-PRINT-000';
    p.providers.ollama.api_base = 'http://${OLLAMA_HOST}:11434/v1';
    const h = home({ providers: p });
    for (const args of [[], ['--json']]) {
      const r = runPtui(['config', 'print', '--home', h.home, ...args], { OLLAMA_HOST: '10.1.2.3' });
      expect(r.status).toBe(0);
      for (const s of ['pa55w0rd-PRINT', 'tok-PRINT-123', 'sk-literal-PRINT-000', '10.1.2.3']) expect(r.stdout).not.toContain(s);
      expect(r.stdout).toContain('http://***@127.0.0.1:8000/v1');
      expect(r.stdout).toContain('http://${OLLAMA_HOST} (set):11434/v1');
      expect(r.stdout).toContain('*** (literal in config file)');
    }
  });

  it('scripts/print-logical-config prints the same, text and --json', () => {
    const h = home();
    for (const args of [[], ['--json']]) {
      const viaCli = runPtui(['config', 'print', '--home', h.home, ...args], SECRETS);
      const viaScript = spawnSync(path.join(REPO_ROOT, 'scripts', 'print-logical-config'), ['--home', h.home, ...args], {
        env: cleanEnv(SECRETS),
        encoding: 'utf8',
      });
      expect(viaScript.status).toBe(0);
      expect(viaScript.stdout).toBe(viaCli.stdout);
      for (const v of Object.values(SECRETS)) expect(viaScript.stdout).not.toContain(v);
    }
  });

  it('exits 1 with the problems when the config is broken', () => {
    const m = sampleConfig('mappings');
    m.models['gpt-4'].targets[1].provider = 'opneai';
    const r = runPtui(['config', 'print', '--home', home({ mappings: m }).home]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'model-mappings.yaml: models.gpt-4.targets[1].provider: unknown provider "opneai" (known: vllm, ollama, openai)',
    );
  });
});
