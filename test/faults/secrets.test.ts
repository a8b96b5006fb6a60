// Secrets: prompts seeded with every secret kind the detectors know (the detector
// tests' own samples), under each guardrail action (block, redact, warn), streamed and not,
// through the cache (every request is sent twice, so the second may be a hit). The upstream
// echoes the prompt back, so a secret that got through would come back in the response too.
// Afterwards no secret value is in the usage log (db and WAL), the gateway's log, /metrics, a
// capture of the dashboard pointed at the same home, the cache dir, or any other file under home.
// `warn` forwards the secret upstream by definition: the upstream may see it, our files may not.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSITIVE } from '../helpers/secret-samples.js';
import { SECRET_KINDS, type SecretKind } from '../../src/security/detectors.js';
import { makeHome, type TempHome } from '../helpers/config.js';
import { keysCli } from '../keys/helpers.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { makeSimHome, PTUI_BIN, readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import { scrapeMetrics } from '../helpers/load.js';
import { startEchoUpstream, type EchoUpstream } from './echo-upstream.js';
import { MODE } from './fixture.js';
import { report } from './report.js';
import { hasTool, TOOLS } from '../helpers/tools.js';
import { DISGUISES, FIELD_CASES } from '../security/fields.js';

type Action = 'block' | 'redact' | 'warn';
const ACTIONS: Action[] = ['block', 'redact', 'warn'];

let echo: EchoUpstream;
let home: TempHome;
const logs: string[] = [];
const metricsTexts: string[] = [];
let dashboard = '';

interface Sample {
  kind: SecretKind;
  value: string;
}
const SAMPLES: Sample[] = SECRET_KINDS.flatMap((kind) => POSITIVE[kind].map((value) => ({ kind, value })));

/**
 * What must not appear anywhere: each value, its JSON-escaped form, and for PEM keys each body
 * line on its own (a key's base64 body is the secret even without its BEGIN/END lines).
 */
function needles(): Array<{ kind: SecretKind; needle: string }> {
  const out: Array<{ kind: SecretKind; needle: string }> = [];
  for (const s of SAMPLES) {
    out.push({ kind: s.kind, needle: s.value });
    const escaped = JSON.stringify(s.value).slice(1, -1);
    if (escaped !== s.value) out.push({ kind: s.kind, needle: escaped });
    if (s.kind === 'private_key') {
      for (const line of s.value.split(/\\n|\n/)) if (line.length >= 16 && !line.startsWith('-----')) out.push({ kind: s.kind, needle: line });
    }
  }
  return out;
}

/** One request shape per index: chat (string, parts, system), completions, embeddings; streamed and not. */
function requestFor(i: number, secret: string): { path: string; body: Record<string, unknown> } {
  const text = `please review this config: token=${secret} thanks`;
  switch (i % 7) {
    case 0:
      return { path: '/v1/chat/completions', body: { model: 'echo', messages: [{ role: 'user', content: text }] } };
    case 1:
      return { path: '/v1/chat/completions', body: { model: 'echo', stream: true, messages: [{ role: 'user', content: text }] } };
    case 2:
      return {
        path: '/v1/chat/completions',
        body: { model: 'echo', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: [{ type: 'text', text }] }] },
      };
    case 3:
      return { path: '/v1/chat/completions', body: { model: 'echo', messages: [{ role: 'system', content: text }, { role: 'user', content: 'hi' }] } };
    case 4:
      return { path: '/v1/completions', body: { model: 'echo', prompt: text } };
    case 5:
      return { path: '/v1/completions', body: { model: 'echo', stream: true, prompt: [text] } };
    default:
      return { path: '/v1/embeddings', body: { model: 'echo-embed', input: ['first', text] } };
  }
}

/** Every regular file under dir, recursively (the cache dir, the runtime dir, the whole home). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe(`secrets never reach our files (${SAMPLES.length} samples of ${SECRET_KINDS.length} kinds; ${MODE})`, () => {
  beforeAll(async () => {
    echo = await startEchoUpstream();
    home = makeHome({
      providers: { providers: { echo: { type: 'openai-compatible', api_base: `${echo.url}/v1`, timeout_s: 10 } } },
      mappings: {
        capabilities: { chat: {}, embeddings: {} },
        models: {
          echo: { capability: 'chat', targets: [{ provider: 'echo', model: 'echo-model' }] },
          'echo-embed': { capability: 'embeddings', targets: [{ provider: 'echo', model: 'echo-embed' }] },
        },
      },
      gateway: { guardrails: { secrets: { action: 'block' } }, cache: { enabled: true, ttl_s: 3600, max_bytes: 10_000_000 } },
    });
  });

  afterAll(async () => {
    // A test that failed half-way leaves its gateway up: never leave it behind.
    await gw?.stop('SIGKILL');
    spawnSync('tmux', ['kill-session', '-t', `ptui-secrets-${process.pid}`]);
    await echo?.close();
    home?.cleanup();
  });

  const outcome: Record<Action, { requests: number; statuses: Record<string, number>; cacheHits: number; upstreamSawSecret: number }> = {
    block: { requests: 0, statuses: {}, cacheHits: 0, upstreamSawSecret: 0 },
    redact: { requests: 0, statuses: {}, cacheHits: 0, upstreamSawSecret: 0 },
    warn: { requests: 0, statuses: {}, cacheHits: 0, upstreamSawSecret: 0 },
  };
  let gw: GatewayChild | null = null;

  for (const action of ACTIONS) {
    it(`action ${action}: the right answer to each request, twice (cache)`, async () => {
      fs.writeFileSync(
        path.join(home.configDir, 'gateway.yaml'),
        `guardrails:\n  secrets: { action: ${action} }\ncache: { enabled: true, ttl_s: 3600, max_bytes: 10000000 }\n`,
      );
      if (gw) await gw.stop('SIGKILL'); // left by a previous action's failure
      gw = await startGateway({ home: home.home });
      const seenBefore = echo.bodies.length;
      const o = outcome[action];
      const missed: string[] = [];
      for (const [i, s] of SAMPLES.entries()) {
        const { path: p, body } = requestFor(i, s.value);
        for (let round = 0; round < 2; round++) {
          // The cache write is not awaited by the gateway (the client has its answer); let it land.
          if (round === 1 && action === 'redact') await new Promise((r) => setTimeout(r, 100));
          const r = await fetch(gw.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          const text = await r.text();
          o.requests++;
          o.statuses[r.status] = (o.statuses[r.status] ?? 0) + 1;
          if (r.headers.get('x-backend-cache') === 'hit') o.cacheHits++;
          else if (round === 1 && action === 'redact') missed.push(`#${i % 7} ${s.kind}`);
          if (action === 'block') {
            expect(r.status, `${s.kind} #${i}: ${text.slice(0, 200)}`).toBe(400);
            const err = JSON.parse(text).error;
            expect(err).toMatchObject({ type: 'invalid_request_error', code: 'guardrail_violation' });
            expect(err.message).toContain(s.kind);
            expect(text).not.toContain(s.value);
          } else {
            expect(r.status, `${s.kind} #${i} (${action}): ${text.slice(0, 200)}`).toBe(200);
            if (body.stream === true) expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
            if (action === 'redact' && p !== '/v1/embeddings') {
              expect(text).toContain(`[REDACTED:${s.kind}]`);
              expect(text).not.toContain(s.value);
            }
            // warn: not cached, since the answer may echo the secret
            if (action === 'warn') expect(r.headers.get('x-backend-cache')).toBe('miss');
          }
        }
      }
      const upstream = echo.bodies.slice(seenBefore);
      o.upstreamSawSecret = upstream.filter((b) => SAMPLES.some((s) => b.includes(JSON.stringify(s.value).slice(1, -1)))).length;
      if (action === 'block') expect(upstream.length).toBe(0);
      if (action === 'redact') {
        expect(o.upstreamSawSecret).toBe(0);
        expect(missed, 'the second identical redacted request is a cache hit').toEqual([]);
      }
      if (action === 'warn') expect(o.upstreamSawSecret).toBeGreaterThan(0);
      metricsTexts.push(await scrapeMetrics(gw.url));
      if (action !== 'warn') {
        expect(await gw.stop()).toBe(0);
        logs.push(gw.stderr());
        gw = null;
      }
    });
  }

  // Outside the scanned prompt fields: a key pasted into "model" (an easy slip with swapped
  // arguments), and a key inside a body that is not valid JSON (V8's parse error quotes the
  // text around the error). The client may see its own text; the log and the dashboard may not.
  const excerptChecks: Array<{ kind: SecretKind; excerpt: string }> = [];
  it('secrets outside the prompt fields: as the model name, inside malformed JSON', async () => {
    expect(gw).not.toBeNull();
    for (const s of SAMPLES) {
      const asModel = await fetch(`${gw!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: s.value, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(asModel.status).toBe(404);
      await asModel.text();
      const bad = await fetch(`${gw!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"model":"echo","messages":[{"role":"user","content":"see"}],"x":${s.value}}`,
      });
      expect(bad.status).toBe(400);
      await bad.text();
      // The parse error is at the key's first character: a quoted excerpt would start with it.
      if (s.kind !== 'private_key') excerptChecks.push({ kind: s.kind, excerpt: s.value.slice(0, 10) });
    }
    const rows = readUsageRows(home.runtimeDir).slice(-SAMPLES.length * 2);
    const quoting = rows.filter((r) => excerptChecks.some((c) => String(r.error_message).includes(c.excerpt)));
    expect(quoting.map((r) => r.error_message)).toEqual([]);
  });

  it.runIf(hasTool(TOOLS.tmux))('a dashboard on the same home shows the requests without a secret', async () => {
    // The last gateway (warn) is still up: the dashboard attaches to it and reads the same log.
    expect(gw).not.toBeNull();
    const session = `ptui-secrets-${process.pid}`;
    const cmd = `NO_COLOR=1 ${process.execPath} ${PTUI_BIN} --home ${home.home} --no-gateway --port ${gw!.port}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '60', cmd]);
    const capture = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    // Wait until the Requests panel lists rows of this run (model names appear in rows).
    dashboard = await waitFor(
      () => {
        const c = capture();
        return /echo|REDACTED/.test(c) ? c : undefined;
      },
      'the dashboard to show request rows',
      20_000,
      250,
    ).catch(() => capture());
    // The Requests panel, focused (key 6), may show more detail.
    execFileSync('tmux', ['send-keys', '-t', session, '6']);
    await new Promise((r) => setTimeout(r, 1500));
    dashboard += '\n' + capture();
    execFileSync('tmux', ['send-keys', '-t', session, 'q']);
    spawnSync('tmux', ['kill-session', '-t', session]);
    expect(dashboard, dashboard).toMatch(/echo|REDACTED/);
    expect(await gw!.stop()).toBe(0);
    logs.push(gw!.stderr());
    gw = null;
  });

  it('no secret in the usage log, gateway log, /metrics, dashboard, cache dir or anywhere under home', () => {
    const places: Array<{ name: string; text: string }> = [
      { name: 'gateway log', text: logs.join('\n') },
      { name: '/metrics', text: metricsTexts.join('\n') },
      { name: 'dashboard capture', text: dashboard },
    ];
    const cacheDir = path.join(home.home, '.litellm_cache');
    const cacheFiles = filesUnder(cacheDir);
    expect(cacheFiles.length, 'the cache stored the redacted answers').toBeGreaterThan(0);
    // Every file under home except our own config: usage db + WAL + SHM, cache entries, logs, exports.
    for (const f of filesUnder(home.home)) {
      if (f.startsWith(home.configDir + path.sep)) continue;
      places.push({ name: path.relative(home.home, f), text: fs.readFileSync(f).toString('latin1') });
    }
    const leaks: string[] = [];
    for (const { kind, needle } of needles()) {
      for (const p of places) if (p.text.includes(needle)) leaks.push(`${kind} in ${p.name}: ${needle.slice(0, 12)}…`);
    }
    expect(leaks).toEqual([]);

    const rows = readUsageRows(home.runtimeDir);
    expect(rows.length).toBe(ACTIONS.length * SAMPLES.length * 2 + SAMPLES.length * 2);
    expect(rows.filter((r) => r.error_type === 'guardrail_violation').length).toBe(SAMPLES.length * 2);
    report('secrets', {
      mode: MODE,
      kinds: SECRET_KINDS.length,
      samples: SAMPLES.length,
      requests: ACTIONS.length * SAMPLES.length * 2 + SAMPLES.length * 2,
      rows: rows.length,
      by_action: outcome,
      places_searched: places.length,
      cache_files: cacheFiles.length,
      leaks: leaks.length,
      dashboard_rows_with_redacted_model: dashboard.split('\n').filter((l) => l.includes('[REDACTED:')).length,
    });
  });
});

// Block mode against every field of a realistic chat, completions and embeddings body (and the
// Responses API's once the gateway serves it): each kind, as is and disguised, is refused before
// the upstream sees it. A secret-shaped x-request-id is replaced, and an answer holding a secret
// is never cached.
describe(`secrets in every field, block mode (${MODE})`, () => {
  let echo2: EchoUpstream;
  let home2: TempHome;
  let gw2: GatewayChild;
  beforeAll(async () => {
    echo2 = await startEchoUpstream();
    home2 = makeHome({
      providers: { providers: { echo: { type: 'openai-compatible', api_base: `${echo2.url}/v1`, timeout_s: 10 } } },
      mappings: {
        capabilities: { chat: {}, embeddings: {} },
        models: {
          M: { capability: 'chat', targets: [{ provider: 'echo', model: 'echo-model' }] },
          E: { capability: 'embeddings', targets: [{ provider: 'echo', model: 'echo-embed' }] },
          R: { capability: 'chat', targets: [{ provider: 'echo', model: 'echo-model@reverse' }] },
        },
      },
      gateway: { guardrails: { secrets: { action: 'block' } }, cache: { enabled: true, ttl_s: 3600, max_bytes: 10_000_000 } },
    });
    gw2 = await startGateway({ home: home2.home });
  });
  afterAll(async () => {
    await gw2?.stop('SIGKILL');
    await echo2?.close();
    home2?.cleanup();
  });

  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(gw2.url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('each kind in each field, as is and disguised: 400 naming the kind, nothing upstream', async () => {
    const probe = await post('/v1/responses', { model: 'M', input: 'hi' });
    await probe.text();
    const cases = FIELD_CASES.filter((f) => f.endpoint !== 'responses' || probe.status !== 404);
    const disguises = MODE === 'short' ? DISGUISES.slice(0, 2) : DISGUISES;
    const before = echo2.bodies.length;
    const wrong: string[] = [];
    let sent = 0;
    for (const f of cases) {
      for (const [i, s] of SAMPLES.entries()) {
        for (const [dname, disguise] of disguises) {
          if (dname !== 'as is' && (s.kind === 'private_key' || (MODE === 'short' && i % 3 !== 0))) continue;
          const r = await post(f.path, f.body(disguise(s.value)));
          const text = await r.text();
          sent++;
          const err = r.status === 400 ? JSON.parse(text).error : null;
          if (r.status !== 400 || err.code !== 'guardrail_violation' || !String(err.message).includes(s.kind)) {
            wrong.push(`${f.endpoint} ${f.name} ${s.kind} (${dname}): ${r.status} ${text.slice(0, 120)}`);
          }
        }
      }
    }
    expect(wrong.slice(0, 10), `${wrong.length} of ${sent}`).toEqual([]);
    expect(echo2.bodies.length - before).toBe(0);
    report('secrets-every-field', { mode: MODE, fields: cases.length, samples: SAMPLES.length, disguises: disguises.length, requests: sent, forwarded: echo2.bodies.length - before });
  }, 600_000);

  it('a secret-shaped x-request-id is replaced: not echoed, not in the usage log, not in the gateway log', async () => {
    const ids = [POSITIVE.openai[0]!, POSITIVE.aws_access_key[0]!, POSITIVE.huggingface[1]!];
    for (const id of ids) {
      const r = await post('/v1/chat/completions', { model: 'M', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': id });
      await r.text();
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).not.toBe(id);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const ordinary = await post('/v1/chat/completions', { model: 'M', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'trace-42' });
    await ordinary.text();
    expect(ordinary.headers.get('x-request-id')).toBe('trace-42');
    const rows = readUsageRows(home2.runtimeDir);
    for (const id of ids) {
      expect(rows.some((row) => row.request_id === id)).toBe(false);
      expect(gw2.stderr()).not.toContain(id);
    }
  });

  it('an answer that holds a secret the request did not is never cached', async () => {
    for (const secret of [POSITIVE.openai[1]!, POSITIVE.github[0]!]) {
      const body = { model: 'R', messages: [{ role: 'user', content: [...secret].reverse().join('') }] };
      for (let round = 0; round < 2; round++) {
        const r = await post('/v1/chat/completions', body);
        const text = await r.text();
        expect(r.status).toBe(200);
        expect(text).toContain(secret); // the client gets its answer
        expect(r.headers.get('x-backend-cache')).toBe('miss');
      }
    }
    const cached = filesUnder(path.join(home2.home, '.litellm_cache')).map((f) => fs.readFileSync(f, 'latin1')).join('\n');
    expect(cached).not.toContain(POSITIVE.openai[1]!);
    expect(cached).not.toContain(POSITIVE.github[0]!);
  });
});

// Virtual keys are secrets too: the key is shown once by `ptui keys create` and after that only
// its hash exists. Used well and badly (revoked, in the URL, as the model name, inside broken
// JSON, rate-limited, refused a model, an extra callback that fails and one that crashes the
// gateway), no key appears in the usage log, the gateway's log and crash output, /metrics, or
// any file under home.
describe('virtual keys never reach our files', () => {
  let sim: SimUpstream;
  let keyHome: TempHome;
  let gwKeys: GatewayChild | undefined;
  afterAll(async () => {
    // a test that failed before the crash leaves its gateway up: never leave it behind
    await gwKeys?.stop('SIGKILL');
    await sim?.close();
    keyHome?.cleanup();
  });

  it('a key in every place a client can put it, and a crash: no key anywhere afterwards', async () => {
    sim = await startSimUpstream();
    keyHome = makeSimHome(sim.url, {
      models: {
        chat: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model', pricing: { input_usd_per_1m: 1, output_usd_per_1m: 1 } }] },
        other: { capability: 'chat', targets: [{ provider: 'sim', model: 'sim-model' }] },
      },
      gateway: { callbacks: ['crash.mjs'] },
    });
    // An extra callback that fails a request on demand, and one that takes the process down.
    fs.writeFileSync(
      path.join(keyHome.home, 'crash.mjs'),
      `export default { name: 'crash', onRequest(ctx) {
         if (ctx.headers['x-fail'] === 'yes') throw new Error('callback failed on purpose');
         if (ctx.headers['x-crash'] === 'yes') setImmediate(() => { throw new Error('callback crashed the gateway on purpose'); });
       } };\n`,
    );
    const keys = [
      keysCli(keyHome.home, 'create', '--alias', 'app', '--rpm', '4', '--models', 'chat', '--budget-usd', '1', '--budget-window', '1d'),
      keysCli(keyHome.home, 'create', '--alias', 'gone'),
    ];
    keys.push(keysCli(keyHome.home, 'rotate', 'gone'));
    keysCli(keyHome.home, 'revoke', 'gone');
    // no limits: its request reaches the crashing callback (the rate limit runs first)
    keys.push(keysCli(keyHome.home, 'create', '--alias', 'crasher'));
    const [key, revoked, rotated, crasher] = keys as [string, string, string, string];
    gwKeys = await startGateway({ home: keyHome.home });
    const gw = gwKeys;
    const post = (path: string, body: string, auth: string, extra: Record<string, string> = {}) =>
      fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth, ...extra }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const chatBody = (model = 'chat', content = 'hi') => JSON.stringify({ model, messages: [{ role: 'user', content }] });
    const statuses: number[] = [];
    const answers: string[] = [];
    const send = async (...a: Parameters<typeof post>) => {
      const r = await post(...a);
      statuses.push(r.status);
      answers.push(r.text);
    };
    await send('/v1/chat/completions', chatBody(), `Bearer ${key}`);
    await send('/v1/chat/completions', JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }), `Bearer ${key}`);
    await send('/v1/chat/completions', chatBody(), `Bearer ${revoked}`);
    await send('/v1/chat/completions', chatBody(), `Bearer ${rotated}`);
    await send(`/v1/chat/completions?api_key=${key}`, chatBody(), `Bearer ${key}`);
    await send(`/v1/chat/completions?x=${key}`, chatBody(), 'Bearer nope');
    await send('/v1/chat/completions', chatBody(key), `Bearer ${key}`);
    await send('/v1/chat/completions', chatBody('other'), `Bearer ${key}`);
    await send('/v1/chat/completions', `{"model":"chat","messages":[],"x":${key}}`, `Bearer ${key}`);
    await send('/v1/chat/completions', chatBody(), `Bearer ${key}x`);
    await send('/v1/chat/completions', chatBody(), `Bearer ${key}`, { 'x-fail': 'yes' });
    // rpm 4, and three counted so far (the two answered and the failed one): one more, then refusals
    for (let i = 0; i < 3; i++) await send('/v1/chat/completions', chatBody(), `Bearer ${key}`);
    expect(statuses).toEqual([200, 200, 401, 401, 401, 401, 403, 403, 400, 401, 500, 200, 429, 429]);
    const metricsText = await scrapeMetrics(gw.url);
    expect(metricsText).toMatch(/backend_llm_key_spend_usd_total\{key="app"\}/);
    // the crash: the process dies with Node's own report on stderr
    await post('/v1/chat/completions', chatBody(), `Bearer ${crasher}`, { 'x-crash': 'yes' }).catch(() => null);
    const code = await gw.exited;
    expect(code).toBe(1);
    const stderr = gw.stderr();
    expect(stderr).toMatch(/callback crashed the gateway on purpose/);
    expect(stderr).toMatch(/callback failed on purpose/);

    const places: Array<{ name: string; text: string }> = [
      { name: 'gateway log and crash output', text: stderr },
      { name: '/metrics', text: metricsText },
      { name: 'keys list', text: keysCli(keyHome.home, 'list') + keysCli(keyHome.home, 'list', '--json') },
    ];
    for (const f of filesUnder(keyHome.home)) places.push({ name: path.relative(keyHome.home, f), text: fs.readFileSync(f).toString('latin1') });
    expect(places.some((p) => p.name.endsWith('keys.db'))).toBe(true);
    expect(places.some((p) => p.name.endsWith('llm_usage.db'))).toBe(true);
    const leaks: string[] = [];
    for (const k of keys) for (const p of places) if (p.text.includes(k.slice(4))) leaks.push(`key ${k.slice(0, 8)}… in ${p.name}`);
    expect(leaks).toEqual([]);
    // the client may see its own text echoed (a malformed body's parse error); nothing else does
    expect(answers.filter((a) => a.includes(key)).length).toBeLessThanOrEqual(1);
    const rows = readUsageRows(keyHome.runtimeDir);
    expect(rows.filter((r) => r.key_alias === 'app').length).toBeGreaterThanOrEqual(8);
    report('secrets-keys', { mode: MODE, keys: keys.length, requests: statuses.length + 1, places_searched: places.length, leaks: leaks.length });
  });
});
