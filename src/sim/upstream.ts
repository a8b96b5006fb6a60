// A tiny simulated OpenAI-compatible upstream (vLLM / Ollama / OpenAI stand-in) for tests,
// benchmarks and `ptui demo`. Deterministic: token counts come from word counts, replies are
// fixed words, so tests can assert exact usage and cost.
//
// Failure knobs, strongest first:
//   1. request header `x-sim-mode: <mode>` (direct calls)
//   2. the model name suffix `@<mode>`, e.g. `llama@500` (what the gateway forwards as the
//      concrete model, so a config target can be made to fail)
//   3. the server-wide mode (`setMode`, `--mode`)
// With `responses: true` it also serves OpenAI's Responses API (sim/responses.ts). A request with
// function tools and no tool result yet gets a call of the first tool, in either API.
// Modes: ok | 400 (refuses the request itself) | 500 | 429 | hang | cut (stream stops after half the chunks, socket destroyed) |
//        badjson (invalid JSON body / SSE payload) | slow (stream chunks every `slowIntervalMs`) |
//        the hostile ones of hostile.ts: endless | endless_line | comments | drip
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOSTILE_MODES, isHostileMode, serveHostile } from './hostile.js';
import { SimEngine, type EngineRequest, type SimEngineKind, type SimEngineSettings } from './engine.js';
import { completeResponse, streamResponse, type ResponsesReply } from './responses.js';
import { embed, promptTokens } from './tokens.js';
import { chatToolCallChunks, toolAnswered, toolToCall } from './tools.js';

export const SIM_MODES = ['ok', '400', '500', '429', 'hang', 'cut', 'badjson', 'slow', ...HOSTILE_MODES] as const;
export type SimMode = (typeof SIM_MODES)[number];

export interface SimOptions {
  host?: string;
  port?: number;
  /** delay before answering (and before the first stream chunk) */
  latencyMs?: number;
  /** gap between stream chunks in mode ok */
  chunkIntervalMs?: number;
  /** gap between stream chunks in mode slow */
  slowIntervalMs?: number;
  /** gap between comment lines in mode comments (default 100) */
  commentIntervalMs?: number;
  /** gap between the bytes of a non-streamed answer in mode drip (default 100) */
  dripIntervalMs?: number;
  /** completion tokens (words) per reply when the request has no max_tokens */
  completionTokens?: number;
  mode?: SimMode;
  /** models listed by /v1/models and /api/tags */
  models?: string[];
  /** keep a log of received requests (tests); off for benches */
  recordRequests?: boolean;
  /** serve an engine's own endpoints: vLLM's /metrics, or Ollama's /api/ps (see engine.ts) */
  engine?: SimEngineKind;
  engineSettings?: SimEngineSettings;
  /** also serve POST /v1/responses (OpenAI's Responses API); off = a chat-only server (404) */
  responses?: boolean;
}

export interface SimRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** parsed JSON body, or the raw text when it was not JSON */
  body: unknown;
  mode: SimMode;
  receivedAt: number;
  /** the reply was fully written */
  completed: boolean;
  /** the connection closed before the reply was complete (the gateway aborted) */
  closedEarly: boolean;
  closedAt: number | null;
  /** content chunks of a stream written so far (the true completion tokens of an answer cut short) */
  tokensSent: number;
  /** bytes a hostile mode wrote so far */
  bytesSent: number;
}

export interface SimUpstream {
  url: string;
  port: number;
  requests: SimRequest[];
  setMode(mode: SimMode): void;
  setLatency(ms: number): void;
  /** the engine side (null unless `engine` was given); `POST /sim/engine` sets it over HTTP too */
  engine: SimEngine | null;
  /** open client connections (to check keep-alive and aborts) */
  connections(): Promise<number>;
  close(): Promise<void>;
}

const WORDS = ['The', 'simulated', 'upstream', 'answers', 'with', 'these', 'fixed', 'words', 'every', 'time'];

function modeOf(req: http.IncomingMessage, model: unknown, fallback: SimMode): SimMode {
  const h = req.headers['x-sim-mode'];
  if (typeof h === 'string' && (SIM_MODES as readonly string[]).includes(h)) return h as SimMode;
  if (typeof model === 'string') {
    const at = model.lastIndexOf('@');
    if (at >= 0) {
      const m = model.slice(at + 1);
      if ((SIM_MODES as readonly string[]).includes(m)) return m as SimMode;
    }
  }
  return fallback;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export function startSimUpstream(opts: SimOptions = {}): Promise<SimUpstream> {
  let mode: SimMode = opts.mode ?? 'ok';
  let latencyMs = opts.latencyMs ?? 0;
  const chunkIntervalMs = opts.chunkIntervalMs ?? 0;
  const slowIntervalMs = opts.slowIntervalMs ?? 200;
  const hostile = { commentIntervalMs: opts.commentIntervalMs ?? 100, dripIntervalMs: opts.dripIntervalMs ?? 100 };
  const completionTokens = opts.completionTokens ?? 8;
  const models = opts.models ?? ['sim-model'];
  const record = opts.recordRequests ?? true;
  const requests: SimRequest[] = [];
  let created = Math.floor(Date.now() / 1000);
  const engine = opts.engine ? new SimEngine(opts.engine, models, opts.engineSettings) : null;
  let seq = 0;

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          // keep the raw text; the handler answers 400
        }
      }
      const obj = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
      const entry: SimRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        mode: modeOf(req, obj.model, mode),
        receivedAt: Date.now(),
        completed: false,
        closedEarly: false,
        closedAt: null,
        tokensSent: 0,
        bytesSent: 0,
      };
      // A gateway's engine scrapes (marked x-ptui-scrape) are not traffic: tests count requests
      // that came down the request path.
      if (record && req.headers['x-ptui-scrape'] === undefined) requests.push(entry);
      res.on('close', () => {
        entry.closedAt = Date.now();
        if (!entry.completed) entry.closedEarly = true;
      });
      res.on('finish', () => {
        entry.completed = true;
      });
      handle(req, res, entry, obj, raw).catch(() => res.destroy());
    });
  });

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: SimRequest,
    body: Record<string, unknown>,
    raw: string,
  ): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET') {
      if (path === '/health') return json(res, 200, { status: 'ok' });
      if (path === '/v1/models' || path === '/models')
        return json(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'sim' })) });
      if (path === '/api/tags') return json(res, 200, { models: models.map((name) => ({ name, model: name, size: engine ? 4_000_000_000 : 0 })) });
      if (engine?.kind === 'vllm' && path === '/metrics') {
        const text = engine.metricsText();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (engine?.kind === 'ollama' && path === '/api/ps') return json(res, 200, engine.psBody());
      return json(res, 404, { error: { message: `no route ${path}`, type: 'not_found' } });
    }
    const kind = path.endsWith('/chat/completions')
      ? 'chat'
      : path.endsWith('/completions')
        ? 'completions'
        : path.endsWith('/embeddings')
          ? 'embeddings'
          : path.endsWith('/responses') && opts.responses
            ? 'responses'
            : null;
    if (engine && req.method === 'POST' && path === '/sim/engine') {
      const b = body as SimEngineSettings & { restart?: boolean };
      if (b.restart) engine.restart();
      engine.set(b);
      return json(res, 200, engine.settings);
    }
    if (req.method !== 'POST' || !kind) return json(res, 404, { error: { message: `no route ${path}`, type: 'not_found' } });
    if (raw && typeof entry.body === 'string') return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });

    const m = entry.mode;
    let er: EngineRequest | undefined;
    if (engine && kind !== 'embeddings' && m !== '400' && m !== '500' && m !== '429') {
      const e = (er = engine.begin(raw, promptTokens(body)));
      res.once('close', () => e.finish('abort', 0));
    }
    if (m === 'hang') return; // never answers; the socket stays open until the caller gives up
    await sleep(latencyMs);
    if (m === '400') return json(res, 400, { error: { message: 'simulated bad request', type: 'invalid_request_error', param: 'messages', code: null } });
    if (m === '500') return json(res, 500, { error: { message: 'simulated server error', type: 'server_error' } });
    if (m === '429') return json(res, 429, { error: { message: 'simulated rate limit', type: 'rate_limit_error' } });
    if (isHostileMode(m)) return serveHostile(m, res, String(body.model), hostile, entry);

    const model = typeof body.model === 'string' ? body.model : 'sim-model';
    const prompt = promptTokens(body);
    const id = `sim-${++seq}`;
    created = Math.floor(Date.now() / 1000);

    if (kind === 'embeddings') {
      if (m === 'badjson') return badJson(res);
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      // The openai SDK asks for base64 (little-endian float32) by default.
      const base64 = body.encoding_format === 'base64';
      const data = inputs.map((v, index) => {
        const vec = embed(String(v));
        return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec };
      });
      return json(res, 200, { object: 'list', data, model, usage: { prompt_tokens: prompt, total_tokens: prompt } });
    }

    const limit = kind === 'responses' ? body.max_output_tokens : body.max_tokens;
    const maxTokens = typeof limit === 'number' && limit > 0 ? limit : completionTokens;
    // max_tokens sets the reply length exactly, so a test can ask for a long slow stream.
    const n = Math.min(maxTokens, 100_000);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[i % WORDS.length]);
    const call = kind === 'completions' ? null : toolToCall(body.tools, toolAnswered(body));
    if (kind === 'responses') {
      const reply: ResponsesReply = { id, model, words, promptTokens: prompt, call, incomplete: false, intervalMs: m === 'slow' ? slowIntervalMs : chunkIntervalMs, cutAt: m === 'cut' ? Math.max(1, Math.floor(n / 2)) : -1 };
      if (body.stream !== true) return m === 'badjson' ? badJson(res) : json(res, 200, completeResponse(reply, body));
      return streamResponse(res, reply, body);
    }
    // A tool call counts as one completion token.
    const completion = call ? 1 : n;
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const toolCall = call && { id: `call_${id}`, type: 'function', function: call };

    if (body.stream !== true) {
      if (m === 'badjson') return badJson(res);
      const text = words.join(' ');
      const choice =
        kind !== 'chat'
          ? { index: 0, text, finish_reason: 'stop', logprobs: null }
          : toolCall
            ? { index: 0, message: { role: 'assistant', content: null, tool_calls: [toolCall] }, finish_reason: 'tool_calls', logprobs: null }
            : { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null };
      er?.firstToken();
      er?.finish('stop', n);
      return json(res, 200, { id, object, created, model, choices: [choice], usage });
    }

    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const interval = m === 'slow' ? slowIntervalMs : chunkIntervalMs;
    const cutAt = m === 'cut' ? Math.max(1, Math.floor(n / 2)) : -1;
    if (toolCall) {
      for (const [i, chunk] of chatToolCallChunks(toolCall, { id, object: chunkObject, created, model }).entries()) {
        if (i > 0) await sleep(interval);
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
    }
    for (let i = 0; i < (toolCall ? 0 : n); i++) {
      if (res.destroyed) return;
      if (i === cutAt) {
        // Let what was written reach the caller first (http corks writes until the next tick),
        // then fail mid-stream: no [DONE], connection gone.
        await sleep(50);
        res.destroy();
        return;
      }
      if (i > 0) await sleep(interval);
      if (res.destroyed) return;
      const piece = (i === 0 ? '' : ' ') + words[i];
      const choice =
        kind === 'chat'
          ? { index: 0, delta: i === 0 ? { role: 'assistant', content: piece } : { content: piece }, finish_reason: null, logprobs: null }
          : { index: 0, text: piece, finish_reason: null, logprobs: null };
      if (i === 0) er?.firstToken();
      else er?.token();
      if (m === 'badjson' && i === 0) res.write('data: {"id": not json\n\n');
      else res.write(`data: ${JSON.stringify({ id, object: chunkObject, created, model, choices: [choice] })}\n\n`);
      entry.tokensSent++;
    }
    const last =
      kind === 'chat'
        ? { index: 0, delta: {}, finish_reason: toolCall ? 'tool_calls' : 'stop', logprobs: null }
        : { index: 0, text: '', finish_reason: 'stop', logprobs: null };
    res.write(`data: ${JSON.stringify({ id, object: chunkObject, created, model, choices: [last] })}\n\n`);
    if (streamOptions?.include_usage) {
      res.write(`data: ${JSON.stringify({ id, object: chunkObject, created, model, choices: [], usage })}\n\n`);
    }
    er?.finish('stop', n);
    res.end('data: [DONE]\n\n');
  }

  function badJson(res: http.ServerResponse) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id": "broken", "choices": [');
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.keepAliveTimeout = 60_000;
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const host = opts.host ?? '127.0.0.1';
      resolve({
        url: `http://${host}:${port}`,
        port,
        requests,
        engine,
        setMode: (m) => {
          mode = m;
        },
        setLatency: (ms) => {
          latencyMs = ms;
        },
        connections: () => new Promise<number>((r) => server.getConnections((_e, c) => r(c))),
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
