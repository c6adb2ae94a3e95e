/** Issue 14: thinking requests valid for the Anthropic API; options it cannot carry are warnings, never dropped in silence. */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/index.js';
import { anthropicDialect } from '../../src/protocol/anthropic.js';

const scenario = (request: string, protocol = 'anthropic') =>
  parseScenario(`target: { url: mock, protocol: ${protocol} }\nmodels: { deepseek-v4-flash: {} }\nrequest: ${request}\n`, 's.yaml');

describe('anthropic protocol: request options', () => {
  it('thinking with max_tokens <= 1024: the budget is sent below max_tokens, and a warning says why', () => {
    const r = scenario('{ thinking: true, max_tokens: 1000 }');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/^s\.yaml:3:40: request\.max_tokens: with thinking on the anthropic protocol, thinking\.budget_tokens is sent as 999/)]);
    expect(JSON.parse(anthropicDialect.body({ model: 'm', prompt: 'hi', system: '', max_tokens: 1000, stream: true, thinking: true } as never)).thinking).toEqual({ type: 'enabled', budget_tokens: 999 });
    expect(scenario('{ thinking: true, max_tokens: 1000 }', 'openai').warnings).toEqual([]);
  });

  it('the body sent is valid for the API: budget_tokens below max_tokens', () => {
    const s = scenario('{ thinking: true, max_tokens: 2000 }').scenario!;
    const body = JSON.parse(anthropicDialect.body({ model: 'm', prompt: 'hi', system: '', max_tokens: s.request.max_tokens, stream: true, thinking: true, temperature: undefined, user_id: undefined } as never));
    expect(body.thinking.budget_tokens).toBeGreaterThanOrEqual(1024);
    expect(body.thinking.budget_tokens).toBeLessThan(body.max_tokens);
  });

  it('reasoning_effort and a temperature other than 1 with thinking are warnings saying they are not sent', () => {
    const r = scenario('{ thinking: true, max_tokens: 2000, reasoning_effort: high, temperature: 0.2 }');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^s\.yaml:3:\d+: request\.reasoning_effort: not sent with protocol anthropic/),
      expect.stringMatching(/^s\.yaml:3:\d+: request\.temperature: not sent with thinking on the anthropic protocol/),
    ]);
    const body = JSON.parse(anthropicDialect.body({ model: 'm', prompt: 'hi', system: '', max_tokens: 2000, stream: true, thinking: true, temperature: 0.2, reasoning_effort: 'high', user_id: undefined } as never));
    expect(body.temperature).toBeUndefined();
    expect(body.reasoning_effort).toBeUndefined();
    // The OpenAI surface carries both: no warning there.
    expect(scenario('{ thinking: true, max_tokens: 2000, reasoning_effort: high, temperature: 0.2 }', 'openai').warnings).toEqual([]);
  });
});
