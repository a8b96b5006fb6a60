// Load generation. Latency is timed per request with process.hrtime.bigint() (ns, reported in
// µs) over a keep-alive undici Pool, so a sub-millisecond difference between two paths is
// visible; throughput comes from autocannon, a well-kept load generator, run programmatically.
import autocannon from 'autocannon';
import { Pool } from 'undici';

/**
 * One request shape of the mix. `path` and `body` are per target (our gateway takes a logical
 * model name, direct access and Portkey the concrete one).
 */
export function chatBody(model, stream) {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello in five words.' },
    ],
    max_tokens: 16,
    temperature: 0,
    stream,
  });
}

/**
 * The bench's mix for one target: the plain and the streamed chat completion, POSTed as JSON to
 * /v1/chat/completions, with `model` (logical for ptui, concrete for the others) and any extra
 * headers (a key, Portkey's routing headers).
 */
export function chatMix(model, extraHeaders = {}) {
  const headers = { 'content-type': 'application/json', ...extraHeaders };
  const path = '/v1/chat/completions';
  return {
    chat: { path, headers, body: chatBody(model, false) },
    stream: { path, headers, body: chatBody(model, true) },
  };
}

export function makePool(origin, connections = 1) {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
}

/**
 * Send one request and read the whole body. Returns total µs, µs to the first body chunk
 * (time to first token for a stream), and the status. Errors come back as status 0.
 */
export async function timedRequest(pool, req) {
  const t0 = process.hrtime.bigint();
  let ttft = 0n;
  try {
    const res = await pool.request({ method: 'POST', path: req.path, headers: req.headers, body: req.body });
    for await (const _chunk of res.body) {
      if (ttft === 0n) ttft = process.hrtime.bigint();
    }
    const t1 = process.hrtime.bigint();
    return { us: Number(t1 - t0) / 1000, ttftUs: Number((ttft || t1) - t0) / 1000, status: res.statusCode };
  } catch (err) {
    return { us: Number(process.hrtime.bigint() - t0) / 1000, ttftUs: NaN, status: 0, error: String(err) };
  }
}

/** Accumulates samples per request kind (`chat`, `stream`) for one target. */
export class Samples {
  constructor() {
    this.us = { chat: [], stream: [] };
    this.ttftUs = [];
    this.errors = 0;
    this.statuses = {};
    this.lastError = null;
  }
  add(kind, r) {
    this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1;
    if (r.status !== 200) {
      this.errors++;
      this.lastError = r.error ?? `HTTP ${r.status}`;
      return;
    }
    this.us[kind].push(r.us);
    if (kind === 'stream') this.ttftUs.push(r.ttftUs);
  }
  all() {
    return this.us.chat.concat(this.us.stream);
  }
}

/** `n` requests one after another, alternating the plain and the streamed request. */
export async function runSequential(pool, reqs, n, samples) {
  for (let i = 0; i < n; i++) {
    const kind = i & 1 ? 'stream' : 'chat';
    const r = await timedRequest(pool, reqs[kind]);
    samples?.add(kind, r);
  }
}

/** `n` requests with `concurrency` in flight at all times, each timed on its own. */
export async function runConcurrent(pool, reqs, n, concurrency, samples) {
  let next = 0;
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= n) return;
      const kind = i & 1 ? 'stream' : 'chat';
      const r = await timedRequest(pool, reqs[kind]);
      samples?.add(kind, r);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * autocannon against one target with the same mix; returns requests/s and every kind of
 * failure autocannon counts (a run with any is reported as such, not as a throughput).
 */
export function runAutocannon(origin, reqs, { connections = 16, duration = 5, amount } = {}) {
  return new Promise((resolve, reject) => {
    const opts = {
      url: origin,
      connections,
      pipelining: 1,
      requests: [
        { method: 'POST', path: reqs.chat.path, headers: reqs.chat.headers, body: reqs.chat.body },
        { method: 'POST', path: reqs.stream.path, headers: reqs.stream.headers, body: reqs.stream.body },
      ],
    };
    if (amount) opts.amount = amount;
    else opts.duration = duration;
    autocannon(opts, (err, result) => {
      if (err) return reject(err);
      resolve({
        rps: result.requests.average,
        total: result.requests.total,
        duration_s: result.duration,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        latency_ms_p50: result.latency.p50,
        latency_ms_p99: result.latency.p99,
      });
    });
  });
}
