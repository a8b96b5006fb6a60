#!/usr/bin/env node
// The floor: the least a Node.js HTTP proxy can do (node:http in, one keep-alive undici Pool
// out, body relayed chunk by chunk, no parsing, no logging). What it adds over direct access is
// the price of one more process hop on this machine; no Node gateway can add less.
//
// With --durable <file> it is the least a gateway that keeps ptui's usage-log rule can do: the
// request body parsed and re-serialised once, and one row written with ptui's own UsageLog
// (dist/usage/log.js, the writer the gateway uses) before the end of the answer goes out, so a
// client never sees a success whose row a kill -9 could lose. The last chunk is held back until
// the row is committed. What it adds over the plain floor is what that rule costs on this box.
//
//   node bench/lib/floor-proxy.mjs --port N --upstream http://127.0.0.1:M [--connections N (64)] [--durable <db file>]
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { ROOT } from './common.mjs';

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' }, connections: { type: 'string' }, durable: { type: 'string' } },
});
const pool = new Pool(values.upstream, { connections: Number(values.connections ?? 64), pipelining: 1, keepAliveTimeout: 60_000 });

const usage = values.durable
  ? (await import(pathToFileURL(path.join(ROOT, 'dist', 'usage', 'log.js')).href)).UsageLog.open(values.durable, {}, { batch: 'tick' })
  : null;

let seq = 0;
/**
 * The row a gateway would write for this answer (the same columns, the same insert). The floor
 * routes nothing, so the model asked for is both the logical and the concrete one.
 */
function row(startMs, model, stream, status, usageTokens) {
  return {
    request_id: `floor-${process.pid}-${++seq}`,
    timestamp: new Date(startMs).toISOString(),
    provider: 'sim',
    logical_model: model,
    concrete_model: model,
    capability: 'chat',
    endpoint: '/v1/chat/completions',
    stream: stream ? 1 : 0,
    prompt_tokens: usageTokens?.prompt_tokens ?? null,
    completion_tokens: usageTokens?.completion_tokens ?? null,
    total_tokens: usageTokens?.total_tokens ?? null,
    cost_usd: 0,
    latency_ms: Date.now() - startMs,
    ttft_ms: null,
    status: status === 200 ? 'success' : 'error',
    http_status: status,
    error_type: null,
    error_message: null,
    cache_hit: 0,
    attempts: 1,
  };
}

/** Requests on their way to a row: with none other, nothing can share this one's commit. */
let inFlight = 0;

/** The one upstream call of both relays: the client's method, path and content type. */
function upstreamRequest(req, body) {
  return pool.request({
    method: req.method,
    path: req.url,
    headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
    body,
  });
}

async function relay(req, res, body) {
  const up = await upstreamRequest(req, body);
  res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
  for await (const c of up.body) res.write(c);
  res.end();
}

/**
 * Relays all but the last chunk, commits the row, then sends the last chunk. Rows of one
 * event-loop turn share a commit, and the only request in flight commits at once, as the
 * gateway's usage-log callback does.
 */
async function relayDurable(req, res, raw) {
  inFlight++;
  let answer;
  try {
    answer = await relayAllButLast(req, res, raw);
  } finally {
    inFlight--;
  }
  usage.insert(answer.row);
  if (inFlight === 0) usage.writePending();
  await usage.written();
  res.end(answer.last ?? undefined);
}

/** The body parsed and re-serialised, the answer relayed but its last chunk; returns that chunk and the row. */
async function relayAllButLast(req, res, raw) {
  const startMs = Date.now();
  let request = null;
  try {
    request = JSON.parse(raw.toString('utf8'));
  } catch {}
  const up = await upstreamRequest(req, request === null ? raw : JSON.stringify(request));
  res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
  const stream = request?.stream === true;
  let last = null;
  const chunks = [];
  for await (const c of up.body) {
    if (last) res.write(last);
    last = c;
    if (!stream) chunks.push(c);
  }
  let tokens = null;
  if (!stream) {
    try {
      tokens = JSON.parse(Buffer.concat(chunks).toString('utf8')).usage ?? null;
    } catch {}
  }
  const model = typeof request?.model === 'string' ? request.model : null;
  return { last, row: row(startMs, model, stream, up.statusCode, tokens) };
}

http
  .createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        await (usage ? relayDurable(req, res, body) : relay(req, res, body));
      } catch (err) {
        if (res.headersSent) return void res.destroy();
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err), type: 'upstream_error' } }));
      }
    });
  })
  .listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`floor proxy on ${values.port}\n`));

process.on('SIGTERM', () => {
  usage?.close();
  process.exit(0);
});
