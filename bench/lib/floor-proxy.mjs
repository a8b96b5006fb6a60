#!/usr/bin/env node
// The floor: the least a Node.js HTTP proxy can do (node:http in, one keep-alive undici Pool
// out, body relayed chunk by chunk, no parsing, no logging). What it adds over direct access is
// the price of one more process hop on this machine; no Node gateway can add less.
//
//   node bench/lib/floor-proxy.mjs --port N --upstream http://127.0.0.1:M [--connections N (64)]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' }, connections: { type: 'string' } } });
const pool = new Pool(values.upstream, { connections: Number(values.connections ?? 64), pipelining: 1, keepAliveTimeout: 60_000 });

http
  .createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const up = await pool.request({
          method: req.method,
          path: req.url,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
        });
        res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
        for await (const c of up.body) res.write(c);
        res.end();
      } catch (err) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err), type: 'upstream_error' } }));
      }
    });
  })
  .listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`floor proxy on ${values.port}\n`));
