import { describe, expect, it } from 'vitest';
import { collectTextSlots, redactRequest, scanRequest } from '../../src/security/request.js';
import { findSecrets } from '../../src/security/scan.js';
import { ORDINARY, POSITIVE } from '../helpers/secret-samples.js';

const GH = POSITIVE.github[0];
const AWS = POSITIVE.aws_access_key[0];
const OPENAI = POSITIVE.openai[1];

function scanAndRedact(body: Record<string, unknown>) {
  const scan = scanRequest(body);
  if (scan) redactRequest(scan);
  return { kinds: scan?.kinds ?? [], json: JSON.stringify(body) };
}

describe('request scanning: every content shape', () => {
  const shapes: Array<[string, (s: string) => Record<string, unknown>]> = [
    ['string content', (s) => ({ messages: [{ role: 'user', content: `hi ${s}` }] })],
    ['system message', (s) => ({ messages: [{ role: 'system', content: `use ${s}` }, { role: 'user', content: 'hello' }] })],
    ['developer message', (s) => ({ messages: [{ role: 'developer', content: s }] })],
    ['assistant message', (s) => ({ messages: [{ role: 'assistant', content: `ok ${s}` }] })],
    [
      'content-part array',
      (s) => ({ messages: [{ role: 'user', content: [{ type: 'text', text: 'look:' }, { type: 'text', text: `key ${s}` }] }] }),
    ],
    ['system content parts', (s) => ({ messages: [{ role: 'system', content: [{ type: 'text', text: s }] }] })],
    [
      'tool call arguments',
      (s) => ({
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: JSON.stringify({ token: s }) } }] },
        ],
      }),
    ],
    ['legacy function_call', (s) => ({ messages: [{ role: 'assistant', function_call: { name: 'f', arguments: `{"k":"${s}"}` } }] })],
    ['tool result message', (s) => ({ messages: [{ role: 'tool', tool_call_id: 'c1', content: `result ${s}` }] })],
    ['prompt string', (s) => ({ prompt: `complete ${s}` })],
    ['prompt array', (s) => ({ prompt: ['first', `second ${s}`] })],
    ['input string', (s) => ({ input: s })],
    ['input array', (s) => ({ input: ['a', 'b', `c ${s}`] })],
    ['input message items', (s) => ({ input: [{ role: 'user', content: [{ type: 'input_text', text: s }] }] })],
    ['top-level system', (s) => ({ system: `sys ${s}`, messages: [] })],
    ['instructions', (s) => ({ instructions: s, input: 'hi' })],
    ['suffix', (s) => ({ prompt: 'def f():', suffix: `# ${s}` })],
  ];

  it.each(shapes)('finds and redacts in %s', (_name, make) => {
    const { kinds, json } = scanAndRedact(make(GH));
    expect(kinds).toEqual(['github']);
    expect(json).not.toContain(GH);
    expect(json).toContain('[REDACTED:github]');
  });

  it.each(shapes)('no finding in %s when the text is ordinary', (_name, make) => {
    for (const text of ORDINARY) expect(scanRequest(make(text))).toBeNull();
  });

  it('does not scan image parts or token-array prompts (not text)', () => {
    const image = `data:image/png;base64,${Buffer.from(GH).toString('base64')}${GH}`;
    const body = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }] }], prompt: [[1, 2, 3]] };
    expect(collectTextSlots(body)).toEqual([]);
  });

  it('leaves model, parameters and other fields alone', () => {
    const body = { model: 'gpt-4', temperature: 0.2, user: 'u1', messages: [{ role: 'user', content: `x ${AWS}` }] };
    scanAndRedact(body);
    expect(body).toEqual({ model: 'gpt-4', temperature: 0.2, user: 'u1', messages: [{ role: 'user', content: 'x [REDACTED:aws_access_key]' }] });
  });

  it('counts each finding and names every kind', () => {
    const scan = scanRequest({ messages: [{ role: 'user', content: `${GH} ${GH} ${AWS}` }, { role: 'system', content: OPENAI }] })!;
    expect(new Set(scan.kinds)).toEqual(new Set(['github', 'aws_access_key', 'openai']));
    expect(scan.counts.get('github')).toBe(2);
    expect(scan.counts.get('aws_access_key')).toBe(1);
  });
});

describe('request scanning: secrets split across parts', () => {
  it.each([
    ['github', GH],
    ['aws_access_key', AWS],
    ['openai', OPENAI],
    ['private_key', POSITIVE.private_key[0]],
  ])('a %s key split across two content parts is found and both halves redacted', (kind, secret) => {
    const cut = Math.floor(secret.length / 2);
    const body = {
      messages: [{ role: 'user', content: [{ type: 'text', text: `my key is ${secret.slice(0, cut)}` }, { type: 'text', text: `${secret.slice(cut)} thanks` }] }],
    };
    const { kinds, json } = scanAndRedact(body);
    expect(kinds).toEqual([kind]);
    // neither half survives, so the key cannot be put back together upstream
    expect(json).not.toContain(secret.slice(0, cut).slice(-8));
    expect(json).not.toContain(secret.slice(cut).slice(0, 8));
    expect(json).toContain('my key is [REDACTED:');
    expect(json).toContain(' thanks');
  });

  it('a key split across two messages (system then user) is found', () => {
    const body = {
      messages: [
        { role: 'system', content: `token: ${GH.slice(0, 10)}` },
        { role: 'user', content: GH.slice(10) },
      ],
    };
    expect(scanAndRedact(body).kinds).toEqual(['github']);
  });

  it('every cut point of a key across two parts is caught', () => {
    for (let cut = 1; cut < AWS.length; cut++) {
      const scan = scanRequest({ prompt: [`k=${AWS.slice(0, cut)}`, AWS.slice(cut)] });
      expect(scan?.kinds, `cut ${cut}`).toEqual(['aws_access_key']);
    }
  });

  it('two ordinary parts do not make a secret when joined', () => {
    expect(scanRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: 'ask-' }, { type: 'text', text: 'price list' }] }] })).toBeNull();
    expect(scanRequest({ prompt: ['the task', '-skip flag'] })).toBeNull();
  });
});

describe('request scanning: size', () => {
  it('a 10 MB prompt without secrets has no finding (throughput printed)', () => {
    const line = `${ORDINARY.join(' ')} the quick brown fox jumps over the lazy dog 0123456789\n`;
    let text = '';
    while (text.length < 10 * 1024 * 1024) text += line;
    // Through JSON, as the gateway gets it: flat strings, not the rope the loop above built.
    const body = JSON.parse(JSON.stringify({ messages: [{ role: 'system', content: 'you are helpful' }, { role: 'user', content: text }] }));
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const scan = scanRequest(body);
      times.push(performance.now() - t0);
      expect(scan).toBeNull();
    }
    const per100k = (ms: number) => ((ms / text.length) * 102400).toFixed(3);
    console.log(
      `guardrails: scanned ${(text.length / 1024 / 1024).toFixed(1)} MB: first run ${times[0].toFixed(1)} ms ` +
        `(${per100k(times[0])} ms/100 KB), warm best ${Math.min(...times.slice(1)).toFixed(1)} ms (${per100k(Math.min(...times.slice(1)))} ms/100 KB)`,
    );
    // and the same text with one secret at the very end is still found
    const tail = text + GH;
    expect(findSecrets(tail).map((f) => f.kind)).toEqual(['github']);
  });
});
