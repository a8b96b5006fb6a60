// The bytes of one upstream attempt: the payload built for its target, and a non-streamed answer
// read whole but never past max_response_bytes.
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
 * passes max (the body is destroyed then, so its connection closes). Read with 'data' events: an
 * async iterator costs a promise and several closures per chunk, and this is on every request.
 */
export function readBounded(up: Dispatcher.ResponseData, max: number): Promise<Buffer> {
  const body = up.body;
  const declared = Number(up.headers['content-length']);
  if (declared > max) {
    body.destroy();
    return Promise.reject(new BodyTooLarge());
  }
  // destroyed before we listen (aborted between the headers and here): 'close' has been and gone
  if (body.destroyed) return Promise.reject(body.errored ?? abortedBody());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        done();
        body.destroy();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // a body destroyed under us (the attempt aborted: a timeout, the client gone) ends with
    // 'close' and no 'end'; undici then also emits 'error', but the close must settle it regardless
    const onClose = () => {
      done();
      reject(body.errored ?? abortedBody());
    };
    // the error listener stays: undici may still destroy the body with an error after we let it
    // go, and an 'error' nobody listens to would end the process (once settled, reject is a no-op)
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}
