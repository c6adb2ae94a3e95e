/**
 * Request options the chosen protocol cannot carry. With `protocol: anthropic`: the thinking budget is sent
 * below max_tokens, and at the API's minimum of 1024 when max_tokens leaves room (a warning otherwise);
 * `reasoning_effort` has no field in the messages API and `temperature` must be 1 with thinking, so each is a
 * warning saying it is not sent, never dropped in silence.
 */
import { ANTHROPIC_MIN_THINKING_BUDGET } from '../models.js';
import { whereOf, type CheckCtx } from './check.js';
import type { Protocol, RequestSpec } from './types.js';

/** Adds problems and warnings for request options the protocol cannot send as written. */
export function protocolKeyChecks(protocol: Protocol, r: RequestSpec, ctx: CheckCtx & { warnings: string[] }): void {
  if (protocol !== 'anthropic') return;
  const where = (path: string[]) => whereOf(ctx, ctx.doc.getIn(path, true));
  const warn = (path: string[], text: string) => {
    const w = where(path);
    ctx.warnings.push(`${w ? w + ': ' : ''}${path.join('.')}: ${text}`);
  };
  if (r.thinking && r.max_tokens <= ANTHROPIC_MIN_THINKING_BUDGET) {
    warn(
      ['request', 'max_tokens'],
      `with thinking on the anthropic protocol, thinking.budget_tokens is sent as ${Math.max(0, r.max_tokens - 1)} (below max_tokens, as the messages API requires, but under its minimum of ${ANTHROPIC_MIN_THINKING_BUDGET}; DeepSeek ignores the budget, Anthropic's own API would refuse it): raise max_tokens above ${ANTHROPIC_MIN_THINKING_BUDGET} for a request valid everywhere`,
    );
  }
  if (r.reasoning_effort !== undefined) {
    warn(['request', 'reasoning_effort'], 'not sent with protocol anthropic (the messages API has no such field); use protocol: openai to send it');
  }
  if (r.thinking && r.temperature !== undefined && r.temperature !== 1) {
    warn(['request', 'temperature'], 'not sent with thinking on the anthropic protocol (the messages API accepts only temperature 1 with thinking)');
  }
}
