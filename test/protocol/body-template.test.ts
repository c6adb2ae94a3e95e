/** Bodies from a template per shape are byte for byte the bodies JSON.stringify gives, whatever the order of shapes. */
import { describe, expect, test } from 'vitest';
import { templatedBody } from '../../src/protocol/body-template.js';
import { openAiDialect } from '../../src/protocol/openai.js';
import { anthropicDialect } from '../../src/protocol/anthropic.js';
import type { ChatParams } from '../../src/protocol/dialect.js';

/** Plain builders: the user_id before the prompt (as a metadata key would be) and after it. */
const userFirst = (p: ChatParams) => JSON.stringify({ model: p.model, ...(p.user_id !== undefined ? { user: p.user_id } : {}), n: p.max_tokens, messages: [{ role: 'system', content: p.system }, { role: 'user', content: p.prompt }], s: p.stream, t: p.thinking, e: p.reasoning_effort, temp: p.temperature });
const userLast = (p: ChatParams) => JSON.stringify({ model: p.model, messages: [{ role: 'user', content: p.prompt }], sys: p.system || undefined, n: p.max_tokens, t: p.thinking, temp: p.temperature, user_id: p.user_id });

const prompts = ['hello', 'quote " and \\ and \n', 'ünïcødé 漢字 🎉', 'lone \ud800 surrogate', '\u0000dsprobe:prompt\u0000', ''];
function params(i: number): ChatParams {
  return {
    model: i % 3 ? 'deepseek-v4-flash' : 'deepseek-v4-pro',
    system: i % 4 ? '' : 'You are a helper. "quoted"',
    prompt: `${prompts[i % prompts.length]} #${i}`,
    max_tokens: i % 5 ? 16 : 1,
    stream: i % 2 === 0,
    thinking: i % 7 === 0,
    ...(i % 7 === 0 ? { reasoning_effort: 'high' as const } : {}),
    ...(i % 6 === 0 ? { temperature: 0.5 } : {}),
    ...(i % 3 === 1 ? { user_id: `user-${i % 4} "x"` } : {}),
  };
}

describe('templated request bodies', () => {
  test.each([['user_id first', userFirst], ['user_id last', userLast]])('equal JSON.stringify of the whole body (%s)', (_n, build) => {
    const fast = templatedBody(build);
    for (let i = 0; i < 400; i++) expect(fast(params(i))).toBe(build(params(i)));
  });

  test('a system prompt holding the marker falls back to the plain builder', () => {
    const fast = templatedBody(userLast);
    const p = { ...params(1), system: 'x "\\u0000dsprobe:prompt\\u0000" \u0000dsprobe:prompt\u0000' };
    expect(fast(p)).toBe(userLast(p));
  });

  test('both dialects send the same body as before, request after request', () => {
    for (const d of [openAiDialect, anthropicDialect]) {
      for (let i = 0; i < 60; i++) {
        const p = params(i);
        const b = JSON.parse(d.body(p));
        const msgs = b.messages as { role: string; content: string }[];
        expect(msgs[msgs.length - 1]).toEqual({ role: 'user', content: p.prompt });
        expect(b.model).toBe(p.model);
        expect(b.max_tokens).toBe(p.max_tokens);
        expect(b.user_id ?? b.metadata?.user_id).toBe(p.user_id);
      }
    }
  });
});
