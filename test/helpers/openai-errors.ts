// What an error must look like on the wire: OpenAI's shape, OpenAI's `type` for each of ptui's
// codes (README.md, "Errors"). Written out here rather than imported, so a change in the gateway's
// table fails the tests instead of moving them along.
import { expect } from 'vitest';

export const OPENAI_TYPE: Record<string, string> = {
  invalid_request_error: 'invalid_request_error',
  guardrail_violation: 'invalid_request_error',
  invalid_api_key: 'authentication_error',
  not_found: 'invalid_request_error',
  model_not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  budget_exceeded: 'insufficient_quota',
  internal_error: 'server_error',
  callback_timeout: 'server_error',
  upstream_error: 'server_error',
  upstream_timeout: 'server_error',
};

/** An OpenAI error body with ptui's `code` and the matching OpenAI `type`; no undici internals in the message. */
export function expectErrorBody(json: any, code: string): void {
  expect(json).toMatchObject({ error: { type: OPENAI_TYPE[code], code } });
  expect(typeof json.error.message).toBe('string');
  expect(json.error).toHaveProperty('param');
  expect(json.error.message).not.toMatch(/UND_ERR/);
}
