// Typed gateway errors and their OpenAI-shaped bodies. `type` is what the usage log
// stores as error_type, so each failure reads the same on the wire, in the log and in metrics.
export type GatewayErrorType =
  | 'invalid_request_error' // 400 bad JSON or fields
  | 'authentication_error' // 401
  | 'not_found' // 404 unknown path or method
  | 'model_not_found' // 404 unknown logical model
  | 'request_too_large' // 413
  | 'budget_exceeded' // 429
  | 'guardrail_violation' // 400
  | 'upstream_error' // 502 after all fallbacks
  | 'upstream_timeout' // 504
  | 'shared_state_unavailable' // 503 shared mode, Redis away, on_unavailable: block
  | 'no_target_available' // 503 every target of the model is drained
  | 'client_closed' // client went away before the response ended (status 499 in the log)
  | 'internal_error'; // 500, a bug of ours

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: GatewayErrorType,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.type } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new GatewayError(400, 'invalid_request_error', message, param);

export const unauthorized = () =>
  new GatewayError(401, 'authentication_error', 'missing or invalid bearer key (Authorization: Bearer <master key>)');
