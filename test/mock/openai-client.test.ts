import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { FAST, mock, until } from './helpers.js';

const messages = [
  { role: 'system' as const, content: 'You are a careful assistant. '.repeat(40) },
  { role: 'user' as const, content: 'Say hello.' },
];

function client(url: string) {
  return new OpenAI({ apiKey: 'sk-test-openai', baseURL: url, maxRetries: 0 });
}

describe('the mock with the official openai client', () => {
  it('answers a non-streaming request with DeepSeek usage figures', async () => {
    const h = await mock({ latency: FAST });
    const r = await client(h.url).chat.completions.create({ model: 'deepseek-v4-flash', messages });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('deepseek-v4-flash');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.message.content).toMatch(/\S/);
    expect(r.usage!.completion_tokens).toBe(5);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 5);
    const u = r.usage as unknown as Record<string, number>;
    expect(u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens).toBe(r.usage!.prompt_tokens);
    expect(r.usage).not.toHaveProperty('completion_tokens_details');
  });

  it('reports prefix-cache hits for a repeated system prompt', async () => {
    const h = await mock({ latency: FAST });
    const c = client(h.url);
    const first = await c.chat.completions.create({ model: 'deepseek-v4-flash', messages });
    const second = await c.chat.completions.create({ model: 'deepseek-v4-flash', messages });
    expect((first.usage as any).prompt_cache_hit_tokens).toBe(0);
    const hit = (second.usage as any).prompt_cache_hit_tokens as number;
    expect(hit).toBeGreaterThan(0);
    expect(hit % 64).toBe(0);
    expect(second.usage!.prompt_tokens_details!.cached_tokens).toBe(hit);
  });

  it('streams chunks with one id, usage only on the last chunk', async () => {
    const h = await mock({ latency: FAST });
    const stream = await client(h.url).chat.completions.create({ model: 'deepseek-v4-flash', messages, stream: true });
    const chunks = [];
    for await (const ch of stream) chunks.push(ch);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect(last.usage!.completion_tokens).toBe(5);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text.trim().split(' ')).toHaveLength(5);
  });

  it('streams reasoning_content before content in thinking mode', async () => {
    const h = await mock({ latency: FAST });
    const body = { model: 'deepseek-v4-pro', messages, stream: true, thinking: { type: 'enabled' } } as any;
    const stream = (await client(h.url).chat.completions.create(body)) as unknown as AsyncIterable<any>;
    const deltas: any[] = [];
    let usage: any;
    for await (const ch of stream) {
      deltas.push(ch.choices[0].delta);
      if (ch.usage) usage = ch.usage;
    }
    expect(deltas[0]).toEqual({ role: 'assistant', content: null, reasoning_content: '' });
    const kinds = deltas.slice(1, -1).map((d) => (d.reasoning_content ? 'r' : 'c')).join('');
    expect(kinds).toBe('rrrccccc');
    expect(usage.completion_tokens).toBe(8);
    expect(usage.completion_tokens_details.reasoning_tokens).toBe(3);
  });

  it('parses a non-streaming answer that waited in the queue behind blank lines, and a queued stream', async () => {
    const h = await mock({ latency: { ...FAST, prefill_overhead: '300ms' }, slots: { 'deepseek-v4-flash': 1 }, keepalive_interval: '10ms' });
    const c = client(h.url);
    const first = c.chat.completions.create({ model: 'deepseek-v4-flash', messages });
    await until(h, (s) => s.servers['deepseek-v4-flash']!.running === 1);
    const queuedBody = c.chat.completions.create({ model: 'deepseek-v4-flash', messages });
    const queuedStream = c.chat.completions.create({ model: 'deepseek-v4-flash', messages, stream: true });
    await until(h, (s) => s.servers['deepseek-v4-flash']!.queued === 2, 'two queued');
    const [a, b, st] = await Promise.all([first, queuedBody, queuedStream]);
    expect(a.choices[0]!.finish_reason).toBe('stop');
    expect(b.choices[0]!.finish_reason).toBe('stop');
    const chunks = [];
    for await (const ch of st) chunks.push(ch);
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
  });

  it('surfaces a 429 as RateLimitError with DeepSeek message', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 0 } });
    const err = await client(h.url)
      .chat.completions.create({ model: 'deepseek-v4-flash', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).status).toBe(429);
    expect(String((err as Error).message)).toContain('Your current concurrency: 0');
  });

  it('lists models and the balance', async () => {
    const h = await mock();
    const models = await client(h.url).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['deepseek-v4-flash', 'deepseek-v4-pro']);
    const bal = (await client(h.url).get('/user/balance')) as any;
    expect(bal).toEqual({
      is_available: true,
      balance_infos: [{ currency: 'USD', total_balance: '10.00', granted_balance: '0.00', topped_up_balance: '10.00' }],
    });
  });

  it('answers an unknown model with 400 Model Not Exist', async () => {
    const h = await mock();
    const err = await client(h.url)
      .chat.completions.create({ model: 'deepseek-chat', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((err as Error).message)).toContain('Model Not Exist');
  });
});
