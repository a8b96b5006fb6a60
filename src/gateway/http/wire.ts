// The bytes of one upstream attempt: the payload built for its target, a non-streamed answer read
// whole but never past max_response_bytes, and a streamed one handed on chunk by chunk.
import type { Dispatcher } from 'undici';

const INCLUDE_USAGE = Object.freeze({ include_usage: true });


/**
 * The JSON one attempt sends: the body with the target's concrete model, and on streams usage
 * asked for (the relay drops that extra chunk when the client did not ask for it).
 */
export function upstreamPayload(body: Record<string, unknown>, model: string, stream: boolean): string {
  if (!stream) return JSON.stringify({ ...body, model });
  const so = body.stream_options;
  return JSON.stringify({ ...body, model, stream_options: so ? { ...(so as object), include_usage: true } : INCLUDE_USAGE });
}

const abortedBody = () => Object.assign(new Error('response body closed before its end'), { code: 'UND_ERR_ABORTED', name: 'AbortError' });

/** A non-streamed upstream body longer than max_response_bytes. */
export class BodyTooLarge extends Error {}

/**
 * The whole body, refused before reading when its content-length is over max, and the moment it
 * passes max (the body is destroyed then, so its connection closes).
 */
export function readBounded(up: Dispatcher.ResponseData, max: number): Promise<Buffer> {
  const declared = Number(up.headers['content-length']);
  if (declared > max) {
    up.body.destroy();
    return Promise.reject(new BodyTooLarge());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  return eachChunk(
    up,
    (c) => {
      size += c.length;
      if (size > max) throw new BodyTooLarge();
      chunks.push(c);
    },
    () => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
  );
}

/**
 * Hands each chunk of an upstream body to onChunk as it comes, read with 'data' events: an async
 * iterator costs a promise and several closures per chunk, and this is on every request. onChunk
 * may return a promise (a slow client's drain): the body pauses until it settles, and the end
 * waits for it. A throw or a rejection ends the body (destroyed, so its connection closes) and
 * rejects. At the body's end, resolves with atEnd's value; rejects with the body's error, or when
 * it closes before its end (the attempt aborted).
 */
export function eachChunk<T = void>(up: Dispatcher.ResponseData, onChunk: (chunk: Buffer) => Promise<void> | void, atEnd?: () => T): Promise<T> {
  const body = up.body;
  // destroyed before we listen (aborted between the headers and here): 'close' has been and gone
  if (body.destroyed) return Promise.reject(body.errored ?? abortedBody());
  return new Promise((resolve, reject) => {
    let settled = false;
    let waiting = false;
    let ended = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      done();
      resolve(atEnd ? atEnd() : (undefined as T));
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      done();
      body.destroy();
      reject(err);
    };
    const resume = () => {
      waiting = false;
      if (ended) finish();
      else if (!settled) body.resume();
    };
    const onData = (c: Buffer) => {
      let wait: Promise<void> | void;
      try {
        wait = onChunk(c);
      } catch (err) {
        fail(err);
        return;
      }
      if (!wait) return;
      waiting = true;
      body.pause();
      wait.then(resume, fail);
    };
    // the end may be announced while a drain is awaited (the last chunk was read): it waits too
    const onEnd = () => {
      ended = true;
      if (!waiting) finish();
    };
    const onClose = () => {
      if (!ended) fail(body.errored ?? abortedBody());
    };
    // the error listener stays once settled: undici may still destroy the body with an error
    // after we let it go, and an 'error' nobody listens to would end the process
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', fail);
    body.on('close', onClose);
  });
}
