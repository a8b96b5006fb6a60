// Hostile HTTP, over raw sockets against the real gateway: malformed and random JSON,
// deep nesting, huge headers, slowloris, invalid UTF-8, request smuggling, HTTP/1.0. Never a
// crash, never a 5xx of the gateway's own making, and an OpenAI-shaped error whenever the request
// got as far as the gateway's code. What Node's HTTP parser refuses before our code runs comes
// back as Node's bare answer: a status line, `Connection: close`, no body (400 Bad Request,
// 431 Request Header Fields Too Large, 408 Request Timeout), and the connection is closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import { readUsageRows, startGateway, waitFor, type GatewayChild } from '../helpers/gateway.js';
import type { TempHome } from '../helpers/config.js';
import { cpuMs, getOnce } from '../helpers/load.js';
import { openAiError, rawExchange, rawPost, type RawResult } from '../helpers/hostile.js';
import { faultHome, MODE, pick } from './fixture.js';
import { report } from './report.js';
import { mulberry32 } from '../../src/usage/generate.js';

const CHAT = '/v1/chat/completions';
const RANDOM_BODIES = pick(60, 600);
/** The slowloris bounds: the gateway's headers/request timeouts plus Node's check interval and slack. */
const SLOW_HEADERS_CLOSE_MS = 30_000;
const SLOW_BODY_CLOSE_MS = 90_000;

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
const seen: Record<string, string> = {};

const describeResult = (r: RawResult) =>
  r.responses.length
    ? r.responses
        .map((x) => `${x.status}${x.status < 400 ? '' : openAiError(x.body) ? ` ${openAiError(x.body)!.type}` : x.body.length ? ' (non-JSON body)' : ' (no body)'}`)
        .join(', ')
    : `no response (${r.closedByServer ? 'closed' : 'open'}${r.error ? `, ${r.error}` : ''})`;

/**
 * The gateway's answer to one request that reached its code: exactly one response, below 500,
 * and an OpenAI error object whenever it is an error.
 */
function expectGatewayAnswer(name: string, r: RawResult, statuses: number[]): void {
  seen[name] = describeResult(r);
  expect(r.responses.length, `${name}: ${seen[name]}`).toBe(1);
  const res = r.responses[0];
  expect(statuses, `${name}: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`).toContain(res.status);
  if (res.status >= 400) expect(openAiError(res.body), `${name}: ${res.body.toString().slice(0, 200)}`).not.toBeNull();
}

/** Node's parser refused it before our code ran: a bare 4xx and a closed connection, or just the close. */
function expectParserRefusal(name: string, r: RawResult, statuses: number[]): void {
  seen[name] = describeResult(r);
  expect(r.closedByServer, `${name}: the connection must be closed (${seen[name]})`).toBe(true);
  for (const res of r.responses) expect(statuses, `${name}: ${seen[name]}`).toContain(res.status);
}

describe(`hostile HTTP over raw sockets (${MODE})`, () => {
  beforeAll(async () => {
    sim = await startSimUpstream({ recordRequests: true });
    home = faultHome(sim);
    gw = await startGateway({ home: home.home });
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await sim?.close();
    home?.cleanup();
  });

  // Slow clients run in the background while the other cases go on: the timeouts are real.
  let slowHeaders: Promise<RawResult>;
  let slowBody: Promise<RawResult>;
  let slowCrowd: Promise<RawResult[]>;
  const slowStarted = Date.now();

  beforeAll(() => {
    const drip = (text: string, gapMs: number, n: number) => {
      const parts: Array<string | number> = [];
      for (let i = 0; i < n; i++) parts.push(text[i % text.length], gapMs);
      return parts;
    };
    const head = `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    slowHeaders = rawExchange(gw.port, [head, ...drip('X-Slow: aaaaaaaaaaaaaaaaaaaa', 1000, 200)], {
      idleMs: 120_000,
      maxMs: SLOW_HEADERS_CLOSE_MS + 10_000,
    });
    const body = JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'x'.repeat(500) }] });
    slowBody = rawExchange(
      gw.port,
      [`POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Request-Id: slowloris-body\r\nContent-Length: ${body.length}\r\n\r\n`, ...drip(body, 1000, body.length)],
      { idleMs: 120_000, maxMs: SLOW_BODY_CLOSE_MS + 10_000 },
    );
    // A crowd of half-open requests must not starve everyone else.
    slowCrowd = Promise.all(
      Array.from({ length: pick(100, 500) }, () =>
        rawExchange(gw.port, [head, 'X-Slow: 1'], { idleMs: SLOW_HEADERS_CLOSE_MS + 5000, maxMs: SLOW_HEADERS_CLOSE_MS + 10_000 }),
      ),
    );
  });

  it('malformed JSON: 400 invalid_request_error, OpenAI-shaped', async () => {
    const bodies = ['', '{', '{"model":', '[1,2', 'nul', '{"model":"ok","messages":[}', "{'model':'ok'}", '\u0000\u0001\u0002', '{"a":1}}', '{"model":"ok",}', '\ufeff{}'];
    const rand = mulberry32(1);
    for (let i = 0; i < RANDOM_BODIES; i++) {
      const n = 1 + Math.floor(rand() * 300);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rand() * 256);
      if (b[0] === 0x7b || b[0] === 0x5b) b[0] = 0x21; // keep it from accidentally being JSON
      bodies.push(b.toString('latin1'));
    }
    for (const [i, body] of bodies.entries()) {
      const r = await rawExchange(gw.port, [rawPost(CHAT, Buffer.from(body, 'latin1'))], { idleMs: 1500 });
      expectGatewayAnswer(`malformed-${i}`, r, [400]);
      expect(openAiError(r.responses[0].body)!.type).toBe('invalid_request_error');
    }
    for (const body of ['null', '42', '"str"', '[]', 'true']) {
      const r = await rawExchange(gw.port, [rawPost(CHAT, body)], { idleMs: 1500 });
      expectGatewayAnswer(`non-object ${body}`, r, [400]);
    }
  });

  it('random JSON values in every field: never a 5xx, errors OpenAI-shaped', async () => {
    const rand = mulberry32(2);
    const value = (depth: number): unknown => {
      const k = Math.floor(rand() * (depth > 3 ? 6 : 8));
      switch (k) {
        case 0:
          return null;
        case 1:
          return rand() < 0.5;
        case 2:
          return Math.floor(rand() * 2e9) - 1e9;
        case 3:
          return rand() * 1e308 * (rand() < 0.5 ? -1 : 1);
        case 4:
          return String.fromCharCode(...Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 0x2fff)));
        case 5:
          return ['ok', 'embed', 'nope', '', 'user', 'assistant'][Math.floor(rand() * 6)];
        case 6:
          return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [['role', 'content', 'type', 'text', `k${i}`][Math.floor(rand() * 5)], value(depth + 1)]));
      }
    };
    const fields = ['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'temperature', 'prompt', 'input', 'n', 'tools', 'user'];
    for (let i = 0; i < RANDOM_BODIES; i++) {
      const body: Record<string, unknown> = { model: rand() < 0.7 ? 'ok' : value(0), messages: [{ role: 'user', content: 'hi' }] };
      for (const f of fields) if (rand() < 0.35) body[f] = value(0);
      const path = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'][i % 3];
      const r = await rawExchange(gw.port, [rawPost(path, JSON.stringify(body), { 'x-request-id': `random-${i}` })], { idleMs: 3000 });
      expectGatewayAnswer(`random-${i} ${JSON.stringify(body).slice(0, 120)}`, r, [200, 400, 404]);
    }
  });

  it('deeply nested JSON (100k levels): 400, no stack overflow', async () => {
    const D = 100_000;
    const cases: Record<string, string> = {
      'unclosed [': '['.repeat(D),
      'deep array body': '['.repeat(D) + ']'.repeat(D),
      'deep messages': `{"model":"ok","messages":${'['.repeat(D)}${']'.repeat(D)}}`,
      'deep content': `{"model":"ok","messages":[{"role":"user","content":${'{"a":'.repeat(D)}1${'}'.repeat(D)}}]}`,
      'deep content, streamed': `{"model":"ok","stream":true,"messages":[{"role":"user","content":${'['.repeat(D)}"x"${']'.repeat(D)}}]}`,
      'deep prompt': `{"model":"ok","prompt":${'['.repeat(D)}"x"${']'.repeat(D)}}`,
      'deep parameter': `{"model":"ok","messages":[{"role":"user","content":"hi"}],"metadata":${'{"a":'.repeat(D)}1${'}'.repeat(D)}}`,
      'deep tools': `{"model":"ok","messages":[{"role":"user","content":"hi"}],"tools":${'['.repeat(D)}${']'.repeat(D)}}`,
    };
    // Every case runs before the verdict, so one failure does not hide the others.
    const wrong: string[] = [];
    for (const [name, body] of Object.entries(cases)) {
      const path = name === 'deep prompt' ? '/v1/completions' : CHAT;
      const r = await rawExchange(gw.port, [rawPost(path, body, { 'x-request-id': `deep-${name.replace(/\W+/g, '-')}` })], { idleMs: 5000 });
      try {
        expectGatewayAnswer(name, r, [400]);
      } catch {
        wrong.push(`${name}: ${seen[name]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a body of a million tiny items costs the gateway little CPU: 400 naming the limit, one row', async () => {
    const bodies: Record<string, string> = {
      'messages: {}': `{"model":"ok","messages":[${Array(1_000_000).fill('{}').join(',')}]}`,
      'input: strings': `{"model":"embed","input":[${Array(1_000_000).fill('"a"').join(',')}]}`,
      'prompt: numbers': `{"model":"ok","prompt":[${Array(1_500_000).fill('1').join(',')}]}`,
    };
    const cost: Record<string, number> = {};
    for (const [name, body] of Object.entries(bodies)) {
      const path = name.startsWith('input') ? '/v1/embeddings' : name.startsWith('prompt') ? '/v1/completions' : CHAT;
      const before = cpuMs(gw.child.pid!)!;
      const r = await rawExchange(gw.port, [rawPost(path, body, { 'x-request-id': `tiny-${name.replace(/\W+/g, '-')}` })], { idleMs: 5000 });
      cost[name] = cpuMs(gw.child.pid!)! - before;
      expectGatewayAnswer(name, r, [400]);
      expect(openAiError(r.responses[0].body)!.message).toMatch(/more than \d+ (objects, arrays and strings|values)/);
    }
    for (const name of Object.keys(bodies)) {
      const id = `tiny-${name.replace(/\W+/g, '-')}`;
      const rowsOf = () => readUsageRows(home.runtimeDir).filter((x) => x.request_id === id);
      const rows = await waitFor(() => rowsOf().length > 0 && rowsOf(), `the row of ${id}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ http_status: 400, error_type: 'invalid_request_error' });
    }
    report('hostile: a million tiny items', { cpu_ms: cost });
    // Reading 2-3 MB off the socket and refusing it is a few ms; walking a million items was 0.5 s+.
    for (const [name, ms] of Object.entries(cost)) expect(ms, name).toBeLessThan(200);
  });

  it('huge headers, a huge URL and too many headers: Node refuses with a bare 431, the gateway lives on', async () => {
    const big = `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 2\r\n\r\n{}`;
    expectParserRefusal('100 KB header', await rawExchange(gw.port, [big]), [431]);
    const url = `GET /v1/models?${'q'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    expectParserRefusal('100 KB URL', await rawExchange(gw.port, [url]), [431, 414, 400]);
    const many = `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`;
    expectParserRefusal('5000 headers', await rawExchange(gw.port, [many]), [431]);
  });

  it('invalid UTF-8 in body, model name, header and path: clean answers', async () => {
    const ff = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]);
    const join = (...p: Array<string | Buffer>) => Buffer.concat(p.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
    const inContent = join('{"model":"ok","messages":[{"role":"user","content":"', ff, '"}]}');
    expectGatewayAnswer('invalid UTF-8 in content', await rawExchange(gw.port, [rawPost(CHAT, inContent)]), [200]);
    const inModel = join('{"model":"', ff, '","messages":[{"role":"user","content":"hi"}]}');
    const r = await rawExchange(gw.port, [rawPost(CHAT, inModel, { 'x-request-id': 'utf8-model' })]);
    expectGatewayAnswer('invalid UTF-8 in model', r, [404]);
    expect(openAiError(r.responses[0].body)).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
    const inHeader = join(`POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: `, ff, `\r\nContent-Length: 2\r\n\r\n{}`);
    const rh = await rawExchange(gw.port, [inHeader]);
    if (rh.responses[0]?.status === 400 && openAiError(rh.responses[0].body)) {
      // our answer: the bad id is replaced by one of ours
      expect(rh.responses[0].headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      seen['invalid UTF-8 in header'] = describeResult(rh);
    } else expectParserRefusal('invalid UTF-8 in header', rh, [400]);
    const inPath = join('GET /v1/', ff, ' HTTP/1.1\r\nHost: x\r\n\r\n');
    const rp = await rawExchange(gw.port, [inPath]);
    if (rp.responses[0]?.status === 404) expectGatewayAnswer('invalid UTF-8 in path', rp, [404]);
    else expectParserRefusal('invalid UTF-8 in path', rp, [400]);
  });

  it('request smuggling: conflicting framing is refused and the smuggled request never runs', async () => {
    const smuggled = `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: smuggled-%ID%\r\nContent-Length: 58\r\n\r\n{"model":"ok","messages":[{"role":"user","content":"hi"}]}`;
    const attempts: Record<string, string> = {
      'CL + TE (CL.TE)': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      'TE + CL (TE.CL)': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 200\r\n\r\n0\r\n\r\n${smuggled}`,
      'two different Content-Length': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 300\r\n\r\n{}${smuggled}`,
      'TE with a space before the colon': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
      'TE: xchunked': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
      'TE: chunked, identity': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
      'bare LF line endings': `POST ${CHAT} HTTP/1.1\nHost: x\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n${smuggled}`,
    };
    let i = 0;
    for (const [name, text] of Object.entries(attempts)) {
      const r = await rawExchange(gw.port, [text.replace('%ID%', String(i++))], { idleMs: 2000, responses: 0 });
      expectParserRefusal(name, r, [400, 501]);
    }
    const rows = readUsageRows(home.runtimeDir);
    expect(rows.filter((x) => String(x.request_id).startsWith('smuggled-'))).toEqual([]);
  });

  it('HTTP/1.0 clients: complete answers (streamed too), connection closed', async () => {
    const body = JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'hi' }] });
    const r = await rawExchange(gw.port, [rawPost(CHAT, body, {}, '1.0')], { idleMs: 5000, responses: 0 });
    expectGatewayAnswer('HTTP/1.0 JSON', r, [200]);
    expect(r.closedByServer).toBe(true);
    expect(JSON.parse(r.responses[0].body.toString()).choices[0].message.content).toBeTruthy();

    const sbody = JSON.stringify({ model: 'ok', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const s = await rawExchange(gw.port, [rawPost(CHAT, sbody, {}, '1.0')], { idleMs: 5000, responses: 0 });
    expectGatewayAnswer('HTTP/1.0 stream', s, [200]);
    expect(s.closedByServer).toBe(true);
    expect(s.responses[0].headers['transfer-encoding']).toBeUndefined();
    expect(s.responses[0].body.toString().trimEnd().endsWith('data: [DONE]')).toBe(true);

    const bad = await rawExchange(gw.port, [rawPost(CHAT, '{', {}, '1.0')], { idleMs: 5000, responses: 0 });
    expectGatewayAnswer('HTTP/1.0 bad JSON', bad, [400]);
    expect(bad.closedByServer).toBe(true);
    // HTTP/1.0 without a Host header and without a body at all
    const bare = await rawExchange(gw.port, [`POST ${CHAT} HTTP/1.0\r\n\r\n`], { idleMs: 5000, responses: 0 });
    expectGatewayAnswer('HTTP/1.0 no body', bare, [400]);
  });

  it('garbage request lines: bare 400 from the parser', async () => {
    for (const [name, text] of Object.entries({
      garbage: 'GARBAGE\r\n\r\n',
      'binary junk': '\x00\x01\x02\x03\xff\r\n\r\n',
      'HTTP/2 preface on HTTP/1': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'bad version': `POST ${CHAT} HTTP/9.9\r\nHost: x\r\n\r\n`,
      'negative Content-Length': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
      'bad chunk size': `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    })) {
      expectParserRefusal(name, await rawExchange(gw.port, [name === 'binary junk' ? Buffer.from(text, 'latin1') : text], { idleMs: 2000 }), [400, 505]);
    }
  });

  it('slowloris: headers and body timeouts close the connections; others are served meanwhile', async () => {
    // Served while the crowd of half-open requests holds its sockets.
    const ok = await getOnce(`${gw.url}/health`);
    expect(ok.status).toBe(200);
    const chat = await rawExchange(gw.port, [rawPost(CHAT, JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'hi' }] }))], { idleMs: 5000 });
    expectGatewayAnswer('served during slowloris', chat, [200]);

    const h = await slowHeaders;
    seen['slowloris headers'] = `${describeResult(h)} after ${h.closedAfterMs} ms`;
    expect(h.closedByServer, 'a client dripping header bytes must be cut off').toBe(true);
    expect(h.closedAfterMs!).toBeLessThan(SLOW_HEADERS_CLOSE_MS);
    for (const res of h.responses) expect(res.status).toBe(408);

    const crowd = await slowCrowd;
    expect(crowd.filter((c) => !c.closedByServer).length).toBe(0);

    const b = await slowBody;
    seen['slowloris body'] = `${describeResult(b)} after ${b.closedAfterMs} ms`;
    expect(b.closedByServer, 'a client dripping body bytes must be cut off').toBe(true);
    expect(b.closedAfterMs!).toBeLessThan(SLOW_BODY_CLOSE_MS);
    for (const res of b.responses) expect([408, 400]).toContain(res.status);
    // Its headers had arrived, so it reached the gateway: it has its row, as a client that left.
    const row = await waitFor(() => readUsageRows(home.runtimeDir).find((r) => r.request_id === 'slowloris-body'), 'the slow body row', 5000, 100);
    expect(row).toMatchObject({ status: 'error', http_status: 499, error_type: 'client_closed' });
  }, SLOW_BODY_CLOSE_MS + 30_000);

  it('afterwards: same process, healthy, no 5xx and no internal_error anywhere', async () => {
    expect(gw.child.exitCode).toBeNull();
    expect(gw.child.signalCode).toBeNull();
    const h = await getOnce(`${gw.url}/health`);
    expect(JSON.parse(h.text).status).toBe('ok');
    const rows = readUsageRows(home.runtimeDir);
    expect(rows.filter((r) => r.http_status >= 500 || r.error_type === 'internal_error')).toEqual([]);
    const internal = gw.logLines().filter((l) => l.event === 'internal_error' || l.event === 'request_failed' || l.level === 'fatal');
    expect(internal).toEqual([]);
    report('hostile', {
      mode: MODE,
      rows: rows.length,
      gateway_5xx: 0,
      crashes: 0,
      slowloris_elapsed_s: Math.round((Date.now() - slowStarted) / 1000),
      answers: seen,
    });
  });
});
