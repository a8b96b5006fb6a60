// The body of an incoming LLM request: reading it under the size limit, one JSON parse, and the
// field checks (400 naming the offending `param`, 404 for an unknown model). acceptBody is the one
// way a context learns its body and model, in the server and in tests alike.
import { isAscii } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { BodySource } from '../security/request.js';
import type { ResolvedConfig, ResolvedModel } from '../config/load.js';
import { checkEstimateFields } from './budget/estimate.js';
import type { Context } from './context.js';
import { badRequest, GatewayError } from './errors.js';
import { checkResponsesBody } from './responses/validate.js';
import { jsonShapeProblem } from './json-shape.js';

const tooLarge = (max: number) => new GatewayError(413, 'request_too_large', `request body is larger than ${max} bytes`);

/**
 * Reads the body, refusing (413) as soon as it passes `max` bytes: a declared Content-Length
 * over the limit is refused before a byte is read, a chunked body when it crosses the limit.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (n > max) return Promise.reject(tooLarge(max));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        // Keep draining (and discarding) so the 413 can still be read by the client.
        req.resume();
        reject(tooLarge(max));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.once('end', onEnd);
    // The client went away mid-body: that is the row's story, not an internal error.
    req.once('error', () => reject(new GatewayError(499, 'client_closed', 'client closed the connection while sending the body')));
  });
}

export function parseJsonBody(buf: Buffer): Record<string, unknown> {
  return parseJsonText(buf).body;
}

/** The body's one parse, with the text it was parsed from (the guardrails read it: see scanRequest). */
export function parseJsonText(buf: Buffer): { body: Record<string, unknown>; source: BodySource } {
  if (buf.length === 0) throw badRequest('request body is empty; expected a JSON object');
  // All-ASCII bytes (the usual body) are their own text: read as latin1, without UTF-8 decoding.
  const ascii = isAscii(buf);
  const text = buf.toString(ascii ? 'latin1' : 'utf8');
  const problem = jsonShapeProblem(text);
  if (problem !== null) throw badRequest(problem);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`request body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return { body: value as Record<string, unknown>, source: { text, ascii } };
}

const isStringOrArray = (v: unknown) => typeof v === 'string' || Array.isArray(v);

/** The configured model of that name, or 404 listing the known ones. */
export function resolveModel(config: ResolvedConfig, name: string): ResolvedModel {
  const models = config.models;
  if (Object.hasOwn(models, name)) return models[name];
  const names = Object.keys(models);
  const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
  throw new GatewayError(404, 'model_not_found', `model "${shown}" not found (known: ${names.length ? names.join(', ') : 'none'})`, 'model');
}

/**
 * Field checks per endpoint, then the model: fills ctx.body (and, given the text it was parsed
 * from, ctx.bodySource) / stream / clientWantsUsage /
 * logicalModel, and the model with its capability and targets. Throws the 400 or 404 the client
 * gets; the fields read before the throw stay on the context for the usage row.
 */
export function acceptBody(ctx: Context, body: Record<string, unknown>, source: BodySource | null = null): void {
  ctx.body = body;
  // (written out: an object spread here measured several µs on the request path)
  if (source !== null) ctx.bodySource = { text: source.text, ascii: source.ascii, body };
  const model = body.model;
  if (typeof model === 'string') ctx.logicalModel = model;
  if (model === undefined) throw badRequest('missing required field "model"', 'model');
  if (typeof model !== 'string' || model === '') throw badRequest('"model" must be a non-empty string', 'model');

  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw badRequest('"stream" must be a boolean', 'stream');
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) {
    throw badRequest('"stream_options" must be an object', 'stream_options');
  }

  switch (ctx.endpoint) {
    case 'chat':
      if (body.messages === undefined) throw badRequest('missing required field "messages"', 'messages');
      if (!Array.isArray(body.messages)) throw badRequest('"messages" must be an array', 'messages');
      break;
    case 'completions':
      if (body.prompt === undefined) throw badRequest('missing required field "prompt"', 'prompt');
      if (!isStringOrArray(body.prompt)) throw badRequest('"prompt" must be a string or an array', 'prompt');
      break;
    case 'embeddings':
      if (body.input === undefined) throw badRequest('missing required field "input"', 'input');
      if (!isStringOrArray(body.input)) throw badRequest('"input" must be a string or an array', 'input');
      if (stream === true) throw badRequest('embeddings cannot be streamed', 'stream');
      break;
    case 'responses':
      checkResponsesBody(body);
      break;
  }
  checkEstimateFields(body);
  ctx.stream = stream === true;
  ctx.clientWantsUsage = ctx.stream && !!so && (so as { include_usage?: unknown }).include_usage === true;
  ctx.useModel(resolveModel(ctx.config, model));
}
