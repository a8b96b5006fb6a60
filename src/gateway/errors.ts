// Typed gateway errors in OpenAI's shape, `{"error":{"message","type","param","code"}}`: `type`
// is one of OpenAI's error types, so SDKs raise the class they know (an insufficient_quota 429 is
// not retried), and `code` is ptui's reason. The code is what the usage log stores as error_type
// and what the errors metric counts, so a failure reads the same on the wire, in the log and in
// /metrics. The table is in README.md, "Errors".
export type GatewayErrorCode =
  | 'invalid_request_error' // 400 bad JSON or fields (param named)
  | 'guardrail_violation' // 400 a secret in the request, action block
  | 'invalid_api_key' // 401
  | 'model_not_allowed' // 403 the virtual key may not use this model
  | 'not_found' // 404 unknown path or method
  | 'model_not_found' // 404 unknown logical model
  | 'request_too_large' // 413
  | 'budget_exceeded' // 429 a block budget is spent
  | 'rate_limit_exceeded' // 429 a rate limit
  | 'internal_error' // 500, a bug of ours
  | 'callback_timeout' // 500 an extra callback's onRequest took longer than callback_timeout_ms
  | 'upstream_error' // 502 after all fallbacks
  | 'upstream_timeout' // 504
  | 'shared_state_unavailable' // 503 shared mode, Redis away, on_unavailable: block
  | 'no_target_available' // 503 every target of the model is drained
  | 'client_closed'; // the client went away before the response ended (499 in the log, never sent)

/** OpenAI's error types (what its SDKs and clients switch on). */
export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'insufficient_quota' | 'requests' | 'tokens' | 'server_error';

const TYPE_OF: Record<GatewayErrorCode, OpenAiErrorType> = {
  invalid_request_error: 'invalid_request_error',
  guardrail_violation: 'invalid_request_error',
  invalid_api_key: 'authentication_error',
  model_not_allowed: 'invalid_request_error',
  not_found: 'invalid_request_error',
  model_not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  budget_exceeded: 'insufficient_quota',
  rate_limit_exceeded: 'requests',
  internal_error: 'server_error',
  callback_timeout: 'server_error',
  upstream_error: 'server_error',
  upstream_timeout: 'server_error',
  shared_state_unavailable: 'server_error',
  no_target_available: 'server_error',
  client_closed: 'server_error',
};

export interface GatewayErrorOptions {
  /** OpenAI's type when the code's default does not fit (a token rate limit: `tokens`) */
  type?: OpenAiErrorType;
  /** response headers that go with this error (retry-after, x-should-retry) */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly type: OpenAiErrorType;
  readonly headers: Readonly<Record<string, string>> | null;

  constructor(
    readonly status: number,
    readonly code: GatewayErrorCode,
    message: string,
    readonly param: string | null = null,
    opts: GatewayErrorOptions = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.type = opts.type ?? TYPE_OF[code] ?? 'server_error';
    this.headers = opts.headers ?? null;
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new GatewayError(400, 'invalid_request_error', message, param);

export const unauthorized = (message = 'missing or invalid bearer key (Authorization: Bearer <master key>)') =>
  new GatewayError(401, 'invalid_api_key', message);
