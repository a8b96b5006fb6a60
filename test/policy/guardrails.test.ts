// Secret scanning through the real gateway (README, "Budgets, guardrails and cache"): every kind is
// blocked, redacted or passed with a warning per gateway.yaml; the simulated upstream never
// receives a blocked or redacted secret; the usage log, the gateway log and the cache dir never
// contain one.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_KINDS, type SecretKind } from '../../src/security/detectors.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { makeSimHome, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { POSITIVE } from '../helpers/secret-samples.js';
import { chatBody, metric, metricsText, postJson } from './helpers.js';

type Action = 'block' | 'redact' | 'warn';

let sim: SimUpstream;
beforeAll(async () => {
  sim = await startSimUpstream();
});
afterAll(async () => {
  await sim.close();
});

/** A part of the secret that identifies it (PEM: a body line, not the BEGIN header). */
function needle(secret: string): string {
  const mid = Math.floor(secret.length / 2);
  return secret.slice(mid - 8, mid + 8);
}

/** Every byte under a dir (and files), searched for each needle. */
function filesContaining(paths: string[], needles: string[]): string[] {
  const hits: string[] = [];
  const visit = (p: string) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
      return;
    }
    const data = fs.readFileSync(p).toString('latin1');
    for (const n of needles) if (data.includes(n)) hits.push(`${p}: ${n}`);
  };
  for (const p of paths) visit(p);
  return hits;
}

const chatRequests = () => sim.requests.filter((q) => q.path.includes('/chat/completions') || q.path.includes('/completions') || q.path.includes('/embeddings'));

async function withGateway(action: Action, fn: (gw: GatewayChild, home: TempHome) => Promise<void>): Promise<{ gw: GatewayChild; home: TempHome }> {
  const home = makeSimHome(sim.url, { gateway: { guardrails: { secrets: { action } }, cache: { enabled: true } } });
  const gw = await startGateway({ home: home.home });
  sim.requests.length = 0;
  try {
    await fn(gw, home);
  } finally {
    expect(await gw.stop()).toBe(0);
  }
  return { gw, home };
}

const samples: Array<[SecretKind, string]> = SECRET_KINDS.map((k) => [k, POSITIVE[k][0]]);

describe.each<Action>(['block', 'redact', 'warn'])('guardrails action %s', (action) => {
  it('handles every secret kind as configured, and no secret lands in the log, the usage log or the cache', async () => {
    const { gw, home } = await withGateway(action, async (gw) => {
      for (const [kind, secret] of samples) {
        sim.requests.length = 0;
        const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(`please use ${secret} for the call`));
        const sent = JSON.stringify(chatRequests().map((q) => q.body));
        if (action === 'block') {
          expect(r.status, kind).toBe(400);
          expect(r.json.error).toMatchObject({ type: 'invalid_request_error', code: 'guardrail_violation' });
          expect(r.json.error.message).toContain(kind);
          expect(r.text).not.toContain(needle(secret));
          expect(chatRequests(), kind).toHaveLength(0);
        } else if (action === 'redact') {
          expect(r.status, kind).toBe(200);
          expect(sent).toContain(`[REDACTED:${kind}]`);
          expect(sent, kind).not.toContain(needle(secret));
          expect(sent).toContain('please use ');
        } else {
          expect(r.status, kind).toBe(200);
          // warn forwards the prompt untouched (that is what warn means)
          expect(sent, kind).toContain(needle(secret));
        }
      }
      const m = await metricsText(gw.url);
      for (const [kind] of samples) {
        expect(metric(m, `backend_llm_guardrail_violations_total{detector="${kind}",action="${action}"}`), kind).toBe(1);
      }
    });
    const hits = filesContaining([home.runtimeDir, path.join(home.home, '.litellm_cache')], samples.map(([, s]) => needle(s)));
    const logHits = samples.filter(([, s]) => gw.stderr().includes(needle(s)));
    expect(hits).toEqual([]);
    expect(logHits).toEqual([]);
    if (action === 'warn') {
      // a warned request is never cached: its answer could echo the secret
      const cached = fs.existsSync(path.join(home.home, '.litellm_cache')) ? fs.readdirSync(path.join(home.home, '.litellm_cache')) : [];
      expect(cached).toEqual([]);
    }
    home.cleanup();
  });
});

describe('guardrails: where secrets hide', () => {
  it('a secret split across two content parts, one in a system message, one in a completion prompt and one in embeddings input are all blocked', async () => {
    const gh = POSITIVE.github[1];
    const aws = POSITIVE.aws_access_key[0];
    const { home } = await withGateway('block', async (gw) => {
      const split = await postJson(`${gw.url}/v1/chat/completions`, {
        model: 'chat',
        messages: [{ role: 'user', content: [{ type: 'text', text: `key: ${gh.slice(0, 17)}` }, { type: 'text', text: `${gh.slice(17)} ok?` }] }],
      });
      expect(split.status).toBe(400);
      expect(split.json.error.message).toContain('github');
      const system = await postJson(`${gw.url}/v1/chat/completions`, {
        model: 'chat',
        messages: [
          { role: 'system', content: `You may use the AWS key ${aws}.` },
          { role: 'user', content: 'list my buckets' },
        ],
      });
      expect(system.status).toBe(400);
      expect(system.json.error.message).toContain('aws_access_key');
      const completion = await postJson(`${gw.url}/v1/completions`, { model: 'chat', prompt: ['fine', `token=${gh}`] });
      expect(completion.status).toBe(400);
      const embed = await postJson(`${gw.url}/v1/embeddings`, { model: 'embed', input: [`${aws}`] });
      expect(embed.status).toBe(400);
      // ordinary text on the same gateway still passes
      const ok = await postJson(`${gw.url}/v1/chat/completions`, chatBody('task-skip ask-price desk-top 3f2a9c1e-1234-4abc-9def-0123456789ab'));
      expect(ok.status).toBe(200);
      expect(chatRequests()).toHaveLength(1);
    });
    home.cleanup();
  });

  it('a redacted split secret reaches upstream as markers in both parts', async () => {
    const gh = POSITIVE.github[0];
    const { home } = await withGateway('redact', async (gw) => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, {
        model: 'chat',
        messages: [{ role: 'user', content: [{ type: 'text', text: `key: ${gh.slice(0, 20)}` }, { type: 'text', text: `${gh.slice(20)} ok?` }] }],
        stream: true,
      });
      expect(r.status).toBe(200);
      const got = chatRequests()[0].body as any;
      expect(got.messages[0].content).toEqual([
        { type: 'text', text: 'key: [REDACTED:github]' },
        { type: 'text', text: '[REDACTED:github] ok?' },
      ]);
    });
    home.cleanup();
  });

  it('a 10 MB prompt without secrets passes (no false positive) and arrives intact', async () => {
    const line = 'task-skip ask-price desk-top e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 highlight night\n';
    const text = line.repeat(Math.ceil((10 * 1024 * 1024 - 4096) / line.length)).slice(0, 10 * 1024 * 1024 - 4096);
    const home = makeSimHome(sim.url, { gateway: { max_body_bytes: 16 * 1024 * 1024 } });
    const gw = await startGateway({ home: home.home });
    try {
      sim.requests.length = 0;
      const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(text, { max_tokens: 1 }));
      expect(r.status).toBe(200);
      await waitFor(() => chatRequests().length === 1, 'the upstream request');
      expect((chatRequests()[0].body as any).messages[0].content.length).toBe(text.length);
      expect((await metricsText(gw.url)).split('\n').filter((l) => l.startsWith('backend_llm_guardrail_violations_total{'))).toEqual([]);
    } finally {
      await gw.stop();
      home.cleanup();
    }
  });
});
