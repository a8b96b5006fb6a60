// Secret scanning before anything leaves the gateway. The action comes from
// gateway.yaml per request (hot reload safe): block rejects with the kinds found, redact
// rewrites the body in place, warn forwards it. Neither the error nor the log line ever carries
// the matched text, only kinds and counts.
import { scanRequest, redactRequest } from '../../security/request.js';
import { Callback } from '../pipeline.js';
import type { Context } from '../context.js';
import { GatewayError } from '../errors.js';

export class GuardrailsCallback extends Callback {
  readonly name = 'guardrails';

  override onRequest(ctx: Context): void {
    if (!ctx.body) return;
    const scan = scanRequest(ctx.body, ctx.source());
    if (!scan) return;
    const action = ctx.config.gateway.guardrails.secrets.action;
    if (scan.incomplete && action !== 'warn') {
      // Too many strings to look at all of them: what was not looked at cannot be let through.
      throw new GatewayError(400, 'guardrail_violation', 'request blocked: it holds too many values for the secret scan; split it');
    }
    for (const [kind, n] of scan.counts) this.deps.metrics.guardrailViolations.inc({ detector: kind, action }, n);
    // Later callbacks (the cache) must know: a warned request still carries a secret and its
    // response may echo it, so it is never stored.
    if (action === 'warn') ctx.forwardsSecret = true;
    this.deps.log.warn('guardrail_violation', {
      request_id: ctx.requestId,
      action,
      kinds: scan.kinds,
      count: [...scan.counts.values()].reduce((a, b) => a + b, 0),
    });
    if (action === 'block') {
      throw new GatewayError(
        400,
        'guardrail_violation',
        `request blocked: it contains what looks like a secret (${scan.kinds.join(', ')}); remove it or ask the operator to change guardrails.secrets.action`,
      );
    }
    if (action === 'redact') {
      redactRequest(scan);
      // A new top-level object, so a server that forwards the original bytes when the body is
      // untouched sees that it changed.
      ctx.body = { ...ctx.body };
    }
  }
}

