// The token estimate the rate limits and the budgets share: made once per body, made again when
// a callback replaces the body (as the guardrails' redaction does).
import { describe, expect, it } from 'vitest';
import { estimateTokens, requestEstimate } from '../../src/gateway/budget/estimate.js';
import { Context } from '../../src/gateway/context.js';
import type { ResolvedConfig } from '../../src/config/load.js';

const config = { models: {}, providers: {}, capabilities: {} } as unknown as ResolvedConfig;

function contextWith(body: Record<string, unknown>): Context {
  const ctx = new Context('req-1', 'chat', {}, config);
  ctx.body = body;
  return ctx;
}

describe('requestEstimate', () => {
  it('is estimateTokens of the body, worked out once for the same body', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 50 };
    const ctx = contextWith(body);
    const first = requestEstimate(ctx);
    expect(first).toEqual(estimateTokens(body, 'chat'));
    expect(requestEstimate(ctx)).toBe(first);
  });

  it('counts again once the body is replaced', () => {
    const ctx = contextWith({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    const before = requestEstimate(ctx);
    ctx.body = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4000) }] };
    const after = requestEstimate(ctx);
    expect(after.prompt_tokens).toBeGreaterThan(before.prompt_tokens);
    expect(after).toEqual(estimateTokens(ctx.body, 'chat'));
  });
});
