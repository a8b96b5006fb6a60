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

/** A non-streamed upstream body longer than max_response_bytes. */
export class BodyTooLarge extends Error {}

/** The whole body, refused before reading when its content-length is over max, and the moment it passes max. */
export async function readBounded(up: Dispatcher.ResponseData, max: number): Promise<Buffer> {
  const declared = Number(up.headers['content-length']);
  if (declared > max) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of up.body) {
    size += (c as Buffer).length;
    if (size > max) throw new BodyTooLarge();
    chunks.push(c as Buffer);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}
