import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { FAST, mock } from './helpers.js';

function client(url: string) {
  return new Anthropic({ apiKey: 'sk-test-anthropic', baseURL: `${url}/anthropic`, maxRetries: 0 });
}

const base = { model: 'deepseek-v4-flash', max_tokens: 1000, messages: [{ role: 'user' as const, content: 'Say hello.' }] };

describe('the mock with the official @anthropic-ai/sdk', () => {
  it('answers a non-streaming message', async () => {
    const h = await mock({ latency: FAST });
    const m = await client(h.url).messages.create(base);
    expect(m.type).toBe('message');
    expect(m.role).toBe('assistant');
    expect(m.stop_reason).toBe('end_turn');
    expect(m.content).toHaveLength(1);
    expect(m.content[0]!.type).toBe('text');
    expect(m.usage.output_tokens).toBe(5);
  });

  it('streams text deltas and the final message', async () => {
    const h = await mock({ latency: FAST });
    const stream = client(h.url).messages.stream(base);
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.filter((t) => t === 'content_block_delta')).toHaveLength(5);
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(5);
    const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text.trim().split(' ')).toHaveLength(5);
  });

  it('streams a thinking block before the text block', async () => {
    const h = await mock({ latency: FAST });
    const stream = client(h.url).messages.stream({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } });
    const final = await stream.finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(final.usage.output_tokens).toBe(8);
  });

  it('surfaces a 429 as rate_limit_error', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 0 } });
    const err = await client(h.url)
      .messages.create(base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const e = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.status).toBe(429);
    expect((e.error as any).error.type).toBe('rate_limit_error');
    expect((e.error as any).error.message).toContain('Your current concurrency: 0');
  });
});
