import { describe, expect, it } from 'vitest';
import { FAST, chat, dataJson, fetchText, frames, mock, send, until } from './helpers.js';

describe('raw bytes on the wire', () => {
  it('frames every OpenAI chunk as `data: {json}` + blank line, usage null until the last, then [DONE]', async () => {
    const h = await mock({ latency: FAST });
    const r = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(r.headers['x-ds-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    const fs = frames(r.body);
    expect(r.body.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const f of fs) expect(f).toMatch(/^data: /);
    const chunks = dataJson(r.body);
    // role delta, 5 tokens, final chunk
    expect(chunks).toHaveLength(7);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(Object.keys(c)).toEqual(['id', 'object', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
    }
    expect(chunks.slice(0, -1).every((c) => c.usage === null && c.choices[0].finish_reason === null)).toBe(true);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices[0]).toEqual({ index: 0, delta: { content: '' }, logprobs: null, finish_reason: 'stop' });
    expect(last.usage.completion_tokens).toBe(5);
  });

  it('frames every Anthropic event with an event: line whose name matches the data type', async () => {
    const h = await mock({ latency: FAST });
    const r = await fetchText(h.url, '/anthropic/v1/messages', {
      model: 'deepseek-v4-flash',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }, { 'x-api-key': 'sk-test' });
    expect(r.status).toBe(200);
    const fs = frames(r.body);
    for (const f of fs) {
      const [ev, data, ...rest] = f.split('\n');
      expect(rest).toEqual([]);
      expect(ev).toMatch(/^event: \w+$/);
      expect(JSON.parse(data!.slice(6)).type).toBe(ev!.slice(7));
    }
    const names = fs.map((f) => f.split('\n')[0]!.slice(7));
    expect(names).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      ...Array(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('sends blank lines before a queued JSON body, and `: keep-alive` comments before a queued stream', async () => {
    const h = await mock({ latency: { ...FAST, prefill_overhead: '1h' }, slots: { 'deepseek-v4-flash': 1 }, keepalive_interval: '5ms' });
    const blocker = await send(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true }));
    const body = await send(h.url, '/chat/completions', chat());
    const stream = await send(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true }));
    // Status 200 and headers go out at once even though both wait for a slot.
    expect(body.status).toBe(200);
    expect(body.headers['content-type']).toBe('application/json');
    expect(body.headers['transfer-encoding']).toBe('chunked');
    expect(stream.status).toBe(200);
    await until(h, () => /\n\n\n/.test(body.text()) && stream.text().split(': keep-alive\n\n').length > 3, 'keep-alives');
    // Freeing the slot starts the first queued request (into a 1h prefill): only keep-alive bytes so far.
    blocker.abort();
    await until(h, (s) => s.servers['deepseek-v4-flash']!.running === 1 && s.servers['deepseek-v4-flash']!.queued === 1, 'one started');
    expect(body.text()).toMatch(/^\n+$/);
    expect(stream.text()).toMatch(/^(: keep-alive\n\n)+$/);
    body.abort();
    stream.abort();
  });

  it('ends a queued non-streaming body with JSON after the blank lines', async () => {
    const h = await mock({ latency: { ...FAST, prefill_overhead: '50ms' }, slots: { 'deepseek-v4-flash': 1 }, keepalive_interval: '5ms' });
    const first = send(h.url, '/chat/completions', chat());
    await until(h, (s) => s.servers['deepseek-v4-flash']!.running === 1);
    const r = await fetchText(h.url, '/chat/completions', chat());
    await first;
    expect(r.body).toMatch(/^\n+\{/);
    const j = JSON.parse(r.body);
    expect(j.object).toBe('chat.completion');
    expect(j.choices[0].message.role).toBe('assistant');
  });

  it('answers bad JSON with 400 and a missing field with 422, in DeepSeek error envelopes', async () => {
    const h = await mock();
    const bad = await fetchText(h.url, '/chat/completions', '{not json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_request_error' });
    const missing = await fetchText(h.url, '/v1/chat/completions', { model: 'deepseek-v4-flash' });
    expect(missing.status).toBe(422);
    expect(JSON.parse(missing.body).error.message).toContain('messages');
    const anth = await fetchText(h.url, '/anthropic/v1/messages', { model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    expect(anth.status).toBe(400);
    expect(JSON.parse(anth.body)).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'Model Not Exist' } });
  });

  it('validates user_id (pattern, 512 bytes) on both surfaces', async () => {
    const h = await mock({ latency: FAST });
    const bad = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { user_id: 'a b' }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toContain('user_id');
    const long = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { user_id: 'a'.repeat(513) }));
    expect(long.status).toBe(400);
    const ok = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { user_id: 'user_1-A' }));
    expect(ok.status).toBe(200);
    const anth = await fetchText(h.url, '/anthropic/v1/messages', {
      model: 'deepseek-v4-flash',
      max_tokens: 10,
      metadata: { user_id: 'no/slash' },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(anth.status).toBe(400);
  });

  it('keeps one token per frame when flush_interval batches delivery', async () => {
    const h = await mock({ latency: { ...FAST, answer_tokens: 12, flush_interval: '5ms' } });
    const r = await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true }));
    const chunks = dataJson(r.body);
    expect(chunks).toHaveLength(14);
    for (const c of chunks.slice(1, -1)) expect(c.choices[0].delta.content).toMatch(/^\w+ $/);
    expect(chunks.at(-1)!.usage.completion_tokens).toBe(12);
  });

  it('groups chunk_tokens tokens per frame', async () => {
    const h = await mock({ latency: { ...FAST, answer_tokens: 12, chunk_tokens: 4 } });
    const chunks = dataJson((await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash', { stream: true }))).body);
    expect(chunks.slice(1, -1).map((c) => c.choices[0].delta.content.trim().split(' ').length)).toEqual([4, 4, 4]);
  });

  it('serves arbitrary model names, and escapes them as JSON', async () => {
    const name = 'evil"<script>alert(1)</script>';
    const h = await mock({ latency: FAST, models: [name] });
    const r = await fetchText(h.url, '/chat/completions', chat(name, { stream: true }));
    expect(r.status).toBe(200);
    expect(dataJson(r.body)[0]!.model).toBe(name);
  });
});
