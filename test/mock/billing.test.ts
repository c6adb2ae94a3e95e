import { describe, expect, it } from 'vitest';
import { FAST, HOLD, chat, dataJson, fetchText, mock, send, until } from './helpers.js';

const key = { authorization: 'Bearer sk-a' };

describe('mock billing (/_mock/state billing)', () => {
  it('bills a finished request its prompt and all its output, and a 429 nothing', async () => {
    const h = await mock({ caps: { 'deepseek-v4-pro': 1 }, latency: { ...FAST, answer_tokens: 10 } });
    const r = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-pro', { stream: true, messages: [{ role: 'user', content: 'Count to 999' }] }), key);
    expect(r.status).toBe(200);
    const usage = dataJson(r.body).find((f) => f.usage)?.usage as { prompt_tokens: number; completion_tokens: number };
    const st = await until(h, (s) => (s.billing['default']?.['deepseek-v4-pro']?.requests ?? 0) === 1, 'billed');
    const b = st.billing['default']!['deepseek-v4-pro']!;
    expect(b.prompt_tokens).toBe(usage.prompt_tokens);
    expect(b.completion_tokens).toBe(usage.completion_tokens);
    expect(b.usd).toBeCloseTo((5 * 1.74 + 10 * 3.48) / 1e6, 12);
    // 'user\0Count to 999' is 17 characters: 5 tokens at the mock's 4 per token. Over the cap: nothing billed.
    const held = await send(h.url, '/chat/completions', chat('deepseek-v4-pro', { stream: true }), key);
    const limited = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-pro', { stream: true }), key);
    expect(limited.status).toBe(429);
    held.abort();
    const after = await until(h, (s) => s.billing['default']!['deepseek-v4-pro']!.requests === 2, 'second billed');
    expect(after.billing['default']!['deepseek-v4-pro']!.requests).toBe(2);
  });

  it('bills a request cut before its first token its prompt only', async () => {
    const h = await mock({ latency: HOLD });
    const o = await send(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true, messages: [{ role: 'user', content: 'Count to 999' }] }), key);
    expect(o.status).toBe(200);
    o.abort();
    const st = await until(h, (s) => (s.billing['default']?.['deepseek-v4-flash']?.requests ?? 0) === 1, 'billed');
    const b = st.billing['default']!['deepseek-v4-flash']!;
    expect(b).toMatchObject({ prompt_tokens: 5, cache_miss_tokens: 5, completion_tokens: 0 });
    expect(b.usd).toBeCloseTo((5 * 0.14) / 1e6, 12);
  });
});
