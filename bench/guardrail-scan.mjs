#!/usr/bin/env node
// What scanning every string of a request costs against scanning its prompt text only: the
// guardrails walk every string the upstream receives (keys, tool schemas, names, metadata),
// folded for invisible characters and look-alikes, where they once read only the message
// content. Bodies of ~100 KB: an English chat with tools and metadata, the same in Cyrillic and
// Japanese (the non-ASCII fold path), and one with many small fields (the walk's own cost).
// "every string" is measured twice: as the gateway calls it (with the JSON text the body was
// parsed from, which lets a plain body skip the walk) and on the parsed body alone (the walk).
//
//   node bench/guardrail-scan.mjs [--quick] [--runs 7] [--iters 200]
// Needs a build (npm run build).
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { QUICK, ROOT, log, median, numFlag, table, writeResult } from './lib/common.mjs';

const RUNS = numFlag('runs', QUICK ? 3 : 7);
const ITERS = numFlag('iters', QUICK ? 50 : 200);
const dist = (p) => path.join(ROOT, 'dist', p);
if (!fs.existsSync(dist('security/request.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { scanRequest, collectTextSlots } = await import(dist('security/request.js'));
const { findSecrets } = await import(dist('security/scan.js'));

const WORDS = {
  english: 'the quick brown fox jumps over the lazy dog while reviewing a pull request about caching and retries '.split(' '),
  'cyrillic+cjk': 'быстрая коричневая лиса прыгает через ленивую собаку 速い 茶色の 狐が 怠惰な 犬を 飛び越える '.split(' '),
};

function prose(words, chars, seed) {
  let s = '';
  let i = seed;
  while (s.length < chars) s += words[(i = (i * 7 + 3) % words.length)] + ' ';
  return s.slice(0, chars);
}

function chatBody(words, targetBytes) {
  const tools = Array.from({ length: 8 }, (_, t) => ({
    type: 'function',
    function: {
      name: `tool_${t}`,
      description: prose(words, 300, t),
      parameters: {
        type: 'object',
        properties: Object.fromEntries(Array.from({ length: 6 }, (_, p) => [`param_${p}`, { type: 'string', description: prose(words, 80, p + t), default: 'x' }])),
        required: ['param_0'],
      },
    },
  }));
  const body = { model: 'gpt-4o', user: 'user-1234', metadata: { team: 'search', trace: 'abc' }, stop: ['END'], tools, messages: [{ role: 'system', content: prose(words, 500, 1) }] };
  let i = 0;
  while (JSON.stringify(body).length < targetBytes) {
    body.messages.push({ role: i % 2 ? 'assistant' : 'user', content: prose(words, 1500, i) });
    i++;
  }
  return body;
}

function manyFields(targetBytes) {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: {} };
  let i = 0;
  while (JSON.stringify(body).length < targetBytes) body.metadata[`k${i}`] = [`v${i}`, { n: i, s: `s${i}` }], i++;
  return body;
}

/** The prompt-text-only scan the guardrails did before: each content slot, no keys, no other fields. */
function contentOnly(body) {
  let n = 0;
  for (const slot of collectTextSlots(body)) n += findSecrets(slot.text).length;
  return n;
}

function timeUs(fn, body) {
  const samples = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERS; i++) fn(body);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / ITERS);
  }
  return median(samples);
}

const bodies = [
  ['english chat + tools', chatBody(WORDS.english, 100_000)],
  ['cyrillic+cjk chat + tools', chatBody(WORDS['cyrillic+cjk'], 100_000)],
  ['many small fields', manyFields(100_000)],
];
const rows = [];
const results = [];
for (const [name, body] of bodies) {
  // The gateway has the bytes it read and the text it parsed; it checks the bytes for ASCII.
  const text = JSON.stringify(body);
  const raw = Buffer.from(text);
  const bytes = raw.length;
  const asGateway = (b) => scanRequest(b, { text, ascii: isAscii(raw) });
  // warm up both paths (JIT, the fold cache)
  for (let i = 0; i < 20; i++) (scanRequest(body), asGateway(body), contentOnly(body));
  const gateway = timeUs(asGateway, body);
  const every = timeUs(scanRequest, body);
  const content = timeUs(contentOnly, body);
  const ratio = gateway / content;
  results.push({ body: name, bytes, every_string_us: gateway, every_string_walk_us: every, content_only_us: content, ratio, ratio_walk: every / content });
  rows.push([name, `${(bytes / 1024).toFixed(0)} KiB`, gateway.toFixed(0), every.toFixed(0), content.toFixed(0), ratio.toFixed(2) + 'x', (every / content).toFixed(2) + 'x']);
  log(`${name}: every string ${gateway.toFixed(0)} µs (walk ${every.toFixed(0)} µs), content only ${content.toFixed(0)} µs`);
}
const scan = table(['body', 'size', 'every string (µs)', 'every string, walk (µs)', 'content only (µs)', 'ratio', 'ratio, walk'], rows);
console.log(scan);
// The target is set on the usual body, an English chat: the non-ASCII fold path is reported beside it.
const english = results[0];
const met = english.ratio <= 1.1;
const verdict = `every string over content only, 100 KB English chat: ${english.ratio.toFixed(2)}× (target ≤ 1.10×): ${met ? 'met' : 'MISSED'}`;
console.log(verdict);
writeResult('guardrail-scan', {
  params: { runs: RUNS, iters: ITERS },
  results,
  measured: { ratio_english: english.ratio },
  targets_met: { every_string_le_1_1x_content: met },
  tables: { scan, verdict: `_${verdict}._` },
});
