import { describe, expect, test } from 'vitest';
import { anthropicDialect } from '../../src/protocol/anthropic.js';
import { newFacts, type ChatParams } from '../../src/protocol/dialect.js';
import { openAiDialect } from '../../src/protocol/openai.js';
import { concurrencyFigures, errorOf, messageOfBody } from '../../src/protocol/server-error.js';
import { openAiUsage } from '../../src/protocol/usage.js';

const params: ChatParams = {
  model: 'deepseek-v4-flash',
  system: 'SYS',
  prompt: 'hello',
  max_tokens: 50,
  stream: true,
  thinking: true,
  reasoning_effort: 'max',
  temperature: 0.5,
  user_id: 'u_1',
};

const oaChunk = (delta: object, finish: string | null = null, usage: object | null = null) =>
  JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage });

describe('OpenAI dialect', () => {
  test('request body: messages, stream_options, thinking, effort, user_id top-level', () => {
    const b = JSON.parse(openAiDialect.body(params));
    expect(b).toEqual({
      model: 'deepseek-v4-flash',
      messages: [
        { role: 'system', content: 'SYS' },
        { role: 'user', content: 'hello' },
      ],
      max_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
      thinking: { type: 'enabled' },
      reasoning_effort: 'max',
      temperature: 0.5,
      user_id: 'u_1',
    });
    const nb = JSON.parse(openAiDialect.body({ ...params, stream: false, thinking: false, system: '', user_id: undefined, temperature: undefined }));
    expect(nb.stream_options).toBeUndefined();
    expect(nb.thinking).toEqual({ type: 'disabled' });
    expect(nb.reasoning_effort).toBeUndefined();
    expect(nb.user_id).toBeUndefined();
    expect(nb.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(openAiDialect.headers('k')).toMatchObject({ authorization: 'Bearer k' });
  });

  test('stream: reasoning then content deltas, usage on the last chunk, [DONE]', () => {
    const f = newFacts();
    const r = openAiDialect.streamReader(f);
    r.message('message', oaChunk({ role: 'assistant', content: null, reasoning_content: '' }), 10);
    expect(f.first_token_us).toBeUndefined();
    r.message('message', oaChunk({ reasoning_content: 'think' }), 20);
    r.message('message', oaChunk({ reasoning_content: 'more' }), 25); // template path
    r.message('message', oaChunk({ content: 'ans' }), 30);
    r.message('message', oaChunk({ content: 'wer' }), 35); // template path
    r.message('message', oaChunk({ content: '' }), 36); // template path, empty text
    expect(f.complete).toBe(false);
    const usage = { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 6 }, completion_tokens_details: { reasoning_tokens: 2 }, prompt_cache_hit_tokens: 6, prompt_cache_miss_tokens: 4 };
    r.message('message', oaChunk({ content: '!' }, 'stop', usage), 40);
    r.message('message', '[DONE]', 50);
    r.message('message', oaChunk({ content: 'after done' }), 60);
    expect(f).toMatchObject({
      first_token_us: 20,
      token_events: 5,
      finish_reason: 'stop',
      complete: true,
      usage: { prompt_tokens: 10, completion_tokens: 4, cache_hit_tokens: 6, cache_miss_tokens: 4, reasoning_tokens: 2 },
    });
    expect(f.fault).toBeUndefined();
  });

  test('stream: generic server usage chunk with empty choices; malformed chunk; data error', () => {
    const f = newFacts();
    const r = openAiDialect.streamReader(f);
    r.message('message', JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 2 } } }), 1);
    expect(f.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, cache_hit_tokens: 2, cache_miss_tokens: 1, reasoning_tokens: 0 });
    r.message('message', '{"choices":[{"delta":', 2);
    expect(f.fault).toBe('bad_json');
    r.message('message', JSON.stringify({ error: { message: 'Too many requests. Your current concurrency: 3.', type: 'rate_limit_error' } }), 3);
    expect(f.error).toEqual({ rateLimited: true, detail: 'mid_stream_error', message: 'Too many requests. Your current concurrency: 3.' });
  });

  test('non-stream body: content, reasoning, usage', () => {
    const f = newFacts();
    openAiDialect.readBody(
      { choices: [{ index: 0, message: { role: 'assistant', content: 'hi', reasoning_content: 'r' }, finish_reason: 'length' }], usage: { prompt_tokens: 5, completion_tokens: 2, prompt_cache_hit_tokens: 0, prompt_cache_miss_tokens: 5 } },
      f,
    );
    expect(f).toMatchObject({ complete: true, finish_reason: 'length', token_events: 1, usage: { prompt_tokens: 5, cache_miss_tokens: 5 } });
    const g = newFacts();
    openAiDialect.readBody({ object: 'something else' }, g);
    expect(g.fault).toBe('unexpected_body');
    expect(g.complete).toBe(false);
  });
});

const an = (event: string, data: object) => [event, JSON.stringify({ type: event, ...data })] as const;

describe('Anthropic dialect', () => {
  test('request body: system, thinking block, metadata.user_id; headers', () => {
    const b = JSON.parse(anthropicDialect.body(params));
    expect(b).toEqual({
      model: 'deepseek-v4-flash',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      system: 'SYS',
      // Valid for the messages API: the budget below max_tokens; no temperature but 1 with thinking (issue 14).
      thinking: { type: 'enabled', budget_tokens: 49 },
      metadata: { user_id: 'u_1' },
    });
    expect(JSON.parse(anthropicDialect.body({ ...params, thinking: false })).thinking).toEqual({ type: 'disabled' });
    expect(JSON.parse(anthropicDialect.body({ ...params, thinking: false })).temperature).toBe(0.5);
    expect(JSON.parse(anthropicDialect.body({ ...params, max_tokens: 4000 })).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(anthropicDialect.headers('k')).toMatchObject({ 'x-api-key': 'k', 'anthropic-version': '2023-06-01' });
    expect(anthropicDialect.path).toBe('/v1/messages');
  });

  test('stream: message_start usage, thinking and text deltas, message_delta, message_stop', () => {
    const f = newFacts();
    const r = anthropicDialect.streamReader(f);
    const evs = [
      an('message_start', { message: { id: 'm', usage: { input_tokens: 4, output_tokens: 1, cache_read_input_tokens: 6 } } }),
      an('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      an('ping', {}),
      an('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
      an('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'more' } }),
      an('content_block_stop', { index: 0 }),
      an('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Hi' } }),
      an('content_block_delta', { index: 1, delta: { type: 'text_delta', text: '' } }),
      an('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }),
    ];
    evs.forEach(([e, d], i) => r.message(e, d, 100 + i));
    expect(f.complete).toBe(false);
    r.message('message_stop', '{"type":"message_stop"}', 200);
    expect(f).toMatchObject({
      first_token_us: 103,
      token_events: 3,
      finish_reason: 'end_turn',
      complete: true,
      usage: { prompt_tokens: 10, completion_tokens: 9, cache_hit_tokens: 6, cache_miss_tokens: 4, reasoning_tokens: 0 },
    });
  });

  test('stream: event: error becomes a server error; rate_limit_error is flagged', () => {
    const f = newFacts();
    anthropicDialect.streamReader(f).message('error', JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 1);
    expect(f.error).toEqual({ rateLimited: false, detail: 'mid_stream_error', message: 'Overloaded' });
    const g = newFacts();
    anthropicDialect.streamReader(g).message('error', JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }), 1);
    expect(g.error?.rateLimited).toBe(true);
  });

  test('non-stream body', () => {
    const f = newFacts();
    anthropicDialect.readBody({ type: 'message', content: [{ type: 'thinking', thinking: 't' }, { type: 'text', text: 'x' }], stop_reason: 'max_tokens', usage: { input_tokens: 3, output_tokens: 7 } }, f);
    expect(f).toMatchObject({ complete: true, finish_reason: 'max_tokens', token_events: 2, usage: { prompt_tokens: 3, completion_tokens: 7 } });
  });
});

describe('server errors and usage', () => {
  test('429 figures: both DeepSeek message variants', () => {
    expect(concurrencyFigures('Too many requests. Please pace your requests reasonably. Your current concurrency: 2000.')).toEqual({ concurrency: 2000 });
    expect(
      concurrencyFigures('Too many requests. Your current concurrency is 5, which exceeds your concurrency limit of 5 based on your remaining balance. Please top up your account.'),
    ).toEqual({ concurrency: 5, limit: 5 });
    expect(concurrencyFigures('nothing here')).toEqual({});
  });

  test('error envelopes, the queue-timeout body, clipping', () => {
    expect(errorOf({ error: { message: 'We were unable to start processing your request within the 900-second timeout limit. Please try again later.' } }, 'error_body')?.detail).toBe('queue_timeout');
    expect(errorOf({ error: { message: 'boom', type: 'server_error' } }, 'error_body')).toEqual({ rateLimited: false, detail: 'error_body', message: 'boom' });
    expect(errorOf({ choices: [] }, 'x')).toBeNull();
    expect(errorOf({ error: 'plain' }, 'x')?.message).toBe('plain');
    expect(errorOf({ error: { message: 'y'.repeat(1000) } }, 'x')?.message.length).toBe(300);
  });

  test('messages of non-2xx bodies: JSON, detail field, HTML title, raw text', () => {
    expect(messageOfBody('{"error":{"message":"Model Not Exist"}}')).toBe('Model Not Exist');
    expect(messageOfBody('{"detail":"Not Found"}')).toBe('Not Found');
    expect(messageOfBody('<html><head><title>502 Bad Gateway</title></head><body>x</body></html>')).toBe('502 Bad Gateway');
    expect(messageOfBody('  upstream\n  down ')).toBe('upstream down');
  });

  test('usage: DeepSeek fields win over OpenAI cached_tokens; missing miss is derived', () => {
    expect(openAiUsage({ prompt_tokens: 10, completion_tokens: 1, prompt_cache_hit_tokens: 4, prompt_cache_miss_tokens: 6, prompt_tokens_details: { cached_tokens: 9 } })).toMatchObject({ cache_hit_tokens: 4, cache_miss_tokens: 6 });
    expect(openAiUsage({ prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 9 } })).toMatchObject({ cache_hit_tokens: 9, cache_miss_tokens: 1 });
    expect(openAiUsage(null)).toBeUndefined();
  });
});
