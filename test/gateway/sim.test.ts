// The simulated upstream the project ships (tests, benches, `ptui demo`): endpoints, usage,
// and every failure knob by header, by model suffix and server-wide; and its CLI entry.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { REPO_ROOT } from '../helpers/config.js';

let sim: SimUpstream;

beforeAll(async () => {
  sim = await startSimUpstream({ models: ['a', 'b'] });
});
afterAll(async () => {
  await sim?.close();
});

const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('simulated upstream', () => {
  it('serves /health, /v1/models and Ollama /api/tags', async () => {
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
    expect((await (await fetch(`${sim.url}/v1/models`)).json()).data.map((m: any) => m.id)).toEqual(['a', 'b']);
    expect((await (await fetch(`${sim.url}/api/tags`)).json()).models.map((m: any) => m.name)).toEqual(['a', 'b']);
    expect((await fetch(`${sim.url}/nope`)).status).toBe(404);
  });

  it('counts tokens deterministically (words), max_tokens sets the reply length', async () => {
    const j = await (await post('/v1/chat/completions', { model: 'a', messages: [{ role: 'user', content: 'one two  three' }, { role: 'user', content: [{ type: 'text', text: 'four' }] }], max_tokens: 4 })).json();
    expect(j.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
    expect(j.choices[0].message.content).toBe('The simulated upstream answers');
    const c = await (await post('/v1/completions', { model: 'a', prompt: 'x y' })).json();
    expect(c.object).toBe('text_completion');
    expect(c.usage.completion_tokens).toBe(8);
  });

  it('streams with a final usage chunk only when include_usage is set', async () => {
    const plain = await (await post('/v1/chat/completions', { model: 'a', messages: [], stream: true, max_tokens: 3 })).text();
    expect(plain.match(/^data: /gm)).toHaveLength(5); // 3 words, finish, [DONE]
    expect(plain).not.toContain('"usage"');
    const withUsage = await (await post('/v1/chat/completions', { model: 'a', messages: [], stream: true, max_tokens: 3, stream_options: { include_usage: true } })).text();
    expect(withUsage).toMatch(/"choices":\[\],"usage":\{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4\}/);
    expect(withUsage.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('knobs: header, model suffix, server-wide mode', async () => {
    expect((await post('/v1/chat/completions', { model: 'a', messages: [] }, { 'x-sim-mode': '500' })).status).toBe(500);
    expect((await post('/v1/chat/completions', { model: 'a@429', messages: [] })).status).toBe(429);
    expect((await post('/v1/chat/completions', { model: 'a@400', messages: [] })).status).toBe(400);
    const bad = await post('/v1/chat/completions', { model: 'a@badjson', messages: [] });
    expect(bad.status).toBe(200);
    await expect(bad.json()).rejects.toThrow();
    const cut = await (await post('/v1/chat/completions', { model: 'a@cut', messages: [], stream: true }).then((r) => r.text()).catch((e) => `error: ${e}`));
    expect(cut).not.toContain('[DONE]');
    sim.setMode('500');
    try {
      expect((await post('/v1/embeddings', { model: 'a', input: 'x' })).status).toBe(500);
      // the header beats the server-wide mode
      expect((await post('/v1/embeddings', { model: 'a', input: 'x' }, { 'x-sim-mode': 'ok' })).status).toBe(200);
    } finally {
      sim.setMode('ok');
    }
    const hang = post('/v1/chat/completions', { model: 'a@hang', messages: [] }).catch((e) => e);
    const entry = await new Promise<any>((resolve) => {
      const t = setInterval(() => {
        const e = sim.requests.find((q) => (q.body as any)?.model === 'a@hang');
        if (e) {
          clearInterval(t);
          resolve(e);
        }
      }, 10);
    });
    expect(entry.completed).toBe(false);
    await sim.close(); // ends the hanging request
    expect(await hang).toBeInstanceOf(Error);
    sim = await startSimUpstream();
  });

  it('embeddings: float or base64, one per input', async () => {
    const f = await (await post('/v1/embeddings', { model: 'e', input: ['a b', 'c'] })).json();
    expect(f.data).toHaveLength(2);
    expect(f.data[0].embedding).toHaveLength(8);
    expect(f.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const b = await (await post('/v1/embeddings', { model: 'e', input: 'a b', encoding_format: 'base64' })).json();
    const raw = Buffer.from(b.data[0].embedding, 'base64');
    expect(raw.length).toBe(8 * 4);
    expect(raw.readFloatLE(0)).toBeCloseTo(f.data[0].embedding[0], 5);
  });

  it('runs as its own process: node dist/sim/main.js --port 0', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'sim', 'main.js'), '--port', '0', '--latency-ms', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.once('exit', (c) => reject(new Error(`exited ${c}`)));
      });
      const { url } = JSON.parse(line);
      const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) });
      expect(r.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const bad = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'sim', 'main.js'), '--mode', 'weird'], { stdio: 'ignore' });
    expect(await new Promise((r) => bad.once('exit', r))).toBe(2);
  });
});
