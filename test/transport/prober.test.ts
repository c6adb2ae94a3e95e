import { AbortHandle } from '../../src/transport/abort.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { monotonicClock } from '../../src/time/clock.js';
import { createProber, getJson, type ProbeRequest, type Prober } from '../../src/transport/prober.js';
import type { Sample } from '../../src/types.js';
import { anFrame, JSON_CT, oaChunk, SSE, startServer, trickle, type TestServer } from './server.js';

const KEY = 'sk-test-7f3a9c2e5b1d4f6a';
const clock = monotonicClock();

const USAGE = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 8 }, prompt_cache_hit_tokens: 8, prompt_cache_miss_tokens: 4 };
const QUEUE_TIMEOUT_BODY = JSON.stringify({ error: { message: 'We were unable to start processing your request within the 900-second timeout limit. Please try again later.' } });
const R429_A = JSON.stringify({ error: { message: 'Too many requests. Please pace your requests reasonably. Your current concurrency: 2000.', type: 'rate_limit_error', param: null, code: 'rate_limit_error' } });
const R429_B = JSON.stringify({
  error: { message: 'Too many requests. Your current concurrency is 5, which exceeds your concurrency limit of 5 based on your remaining balance. Please top up your account.', type: 'rate_limit_error' },
});
const COMPLETION = JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: USAGE });

function req(model: string, over: Partial<ProbeRequest> = {}): ProbeRequest {
  const now = clock.nowUs();
  return {
    id: 1, model, step: 0, target_inflight: 1, inflight_at_send: 1, key_index: 0, apiKey: KEY, user_id: 'u1',
    system: 'sys', prompt: 'hi', max_tokens: 8, stream: true, thinking: false,
    intended_us: now, deadline_us: now + 10_000_000, ...over,
  };
}

let server: TestServer;
let prober: Prober;

beforeAll(async () => {
  server = await startServer({
    ok_stream: (res) => {
      res.writeHead(200, { ...SSE, 'x-ds-trace-id': 'trace-1', 'retry-after': '3', 'x-ratelimit-remaining-requests': '9', 'ratelimit-limit': '10' });
      trickle(res, [': keep-alive\n\n', ': keep-alive\n\n', ': keep-alive\n\n', oaChunk({ role: 'assistant', content: null, reasoning_content: '' }), oaChunk({ reasoning_content: 'r' }), oaChunk({ content: 'a' }), oaChunk({ content: 'b' }), oaChunk({ content: '' }, 'stop', USAGE), 'data: [DONE]\n\n'], 5);
    },
    ok_nonstream: (res) => {
      res.writeHead(200, { ...JSON_CT, 'retry-after-ms': '250' });
      trickle(res, ['\n', '\n', COMPLETION], 5);
    },
    r429a: (res) => {
      res.writeHead(429, JSON_CT);
      res.end(R429_A);
    },
    r429b: (res) => {
      res.writeHead(429, JSON_CT);
      res.end(R429_B);
    },
    r401: (res, r) => {
      res.writeHead(401, JSON_CT);
      // A careless server echoing the key: it must still never reach a Sample.
      res.end(JSON.stringify({ error: { message: `Authentication Fails, Your api key: ${String(r.headers.authorization)} is invalid` } }));
    },
    r500: (res) => {
      res.writeHead(500, JSON_CT);
      res.end(JSON.stringify({ error: { message: 'Internal error' } }));
    },
    r502html: (res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>');
    },
    queue_timeout_nonstream: (res) => {
      res.writeHead(200, JSON_CT);
      trickle(res, ['\n', '\n', '\n', QUEUE_TIMEOUT_BODY], 5);
    },
    queue_timeout_stream: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [': keep-alive\n\n', ': keep-alive\n\n', `data: ${QUEUE_TIMEOUT_BODY}\n\n`], 5);
    },
    queue_timeout_raw_in_stream: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [': keep-alive\n\n', `${QUEUE_TIMEOUT_BODY}\n`], 5);
    },
    error_body: (res) => {
      res.writeHead(200, JSON_CT);
      res.end(JSON.stringify({ error: { message: 'Something broke', type: 'server_error' } }));
    },
    mid_stream_error: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' }), `data: ${JSON.stringify({ error: { message: 'upstream failed', type: 'server_error' } })}\n\n`], 5);
    },
    mid_stream_429: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' }), `data: ${R429_A}\n\n`], 5);
    },
    reset_before_headers: (_res, r) => {
      r.socket.destroy();
    },
    cut_mid_stream: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' }), oaChunk({ content: 'b' })], 5, 'cut');
    },
    cut_while_queued: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [': keep-alive\n\n', ': keep-alive\n\n'], 5, 'cut');
    },
    cut_nonstream_queued: (res) => {
      res.writeHead(200, JSON_CT);
      trickle(res, ['\n', '\n'], 5, 'cut');
    },
    trickle_forever: (res) => {
      res.writeHead(200, SSE);
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(': keep-alive\n\n')), 10);
      res.on('close', () => clearInterval(t));
    },
    trickle_blank_forever: (res) => {
      res.writeHead(200, JSON_CT);
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('\n')), 10);
      res.on('close', () => clearInterval(t));
    },
    no_headers: () => {
      // never answers
    },
    empty_body: (res) => {
      res.writeHead(200, JSON_CT);
      trickle(res, ['\n', '\n'], 5);
    },
    malformed_chunk: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' }), 'data: {"choices":[{"delta":{"content":"b"\n\n', oaChunk({ content: 'c' }, 'stop', USAGE), 'data: [DONE]\n\n'], 5);
    },
    html_200: (res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Gateway Timeout</title></head></html>');
    },
    wrong_ct: (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(oaChunk({ content: 'a' }) + 'data: [DONE]\n\n');
    },
    truncated: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' }), oaChunk({ content: '' }, 'stop', USAGE)], 5);
    },
    slow_stream: (res) => {
      res.writeHead(200, SSE);
      trickle(res, [oaChunk({ content: 'a' })], 5, 'hang');
    },
    echo_ok: (res) => {
      res.writeHead(200, SSE);
      res.end(oaChunk({ content: 'x' }, 'stop', USAGE) + 'data: [DONE]\n\n');
    },
  });
  prober = createProber({ baseUrl: server.url, protocol: 'openai', clock });
});

afterAll(async () => {
  await prober.close();
  await server.close();
});

function noKey(s: Sample): void {
  expect(JSON.stringify(s)).not.toContain(KEY);
}

describe('prober (OpenAI): successes', () => {
  test('stream with keep-alives before data: timestamps in order, usage, headers recorded', async () => {
    const heads: number[] = [];
    let kas = 0;
    const s = await prober.send(req('ok_stream'), undefined, { onHeaders: (_r, st) => heads.push(st), onKeepAlive: () => kas++ });
    expect(s).toMatchObject({ outcome: 'ok', status: 200, keepalives: 3, token_events: 3, finish_reason: 'stop', trace_id: 'trace-1', retry_after: '3' });
    expect(s.detail).toBeUndefined();
    expect(s.ratelimit).toEqual({ 'x-ratelimit-remaining-requests': '9', 'ratelimit-limit': '10' });
    expect(s.usage).toEqual({ prompt_tokens: 12, completion_tokens: 3, cache_hit_tokens: 8, cache_miss_tokens: 4, reasoning_tokens: 0 });
    expect(heads).toEqual([200]);
    expect(kas).toBe(3);
    const t = s as Required<Sample>;
    expect(t.sent_us).toBeGreaterThanOrEqual(t.intended_us);
    expect(t.headers_us).toBeGreaterThanOrEqual(t.sent_us);
    expect(t.first_byte_us).toBe(t.first_keepalive_us);
    // Keep-alive wait = first_data - first_keepalive: the three comments came 5 ms apart before any data.
    expect(t.first_data_us).toBeGreaterThan(t.first_keepalive_us);
    expect(t.first_token_us).toBeGreaterThan(t.first_data_us); // the first data chunk carried no text
    expect(t.end_us).toBeGreaterThanOrEqual(t.first_token_us);
    expect(s.user_id).toBe('u1');
    noKey(s);
  });

  test('the request on the wire: path, bearer auth, body fields', async () => {
    await prober.send(req('echo_ok', { thinking: true, reasoning_effort: 'high', user_id: 'u9' }));
    const seen = server.seen.find((x) => x.body.model === 'echo_ok');
    expect(seen?.path).toBe('/chat/completions');
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen?.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, thinking: { type: 'enabled' }, reasoning_effort: 'high', user_id: 'u9', max_tokens: 8 });
  });

  test('the prompt goes on the wire, and the request lets go of its text once the body is built', async () => {
    const r = req('echo_ok', { system: 'S'.repeat(3000), prompt: 'P'.repeat(5000) });
    const sent = prober.send(r);
    // Held until the answer ends, the request no longer holds the text (only the body on the wire did).
    expect([r.prompt, r.system]).toEqual(['', '']);
    expect((await sent).outcome).toBe('ok');
    const seen = server.seen.filter((x) => x.body.model === 'echo_ok').pop();
    const messages = seen?.body.messages as { role: string; content: string }[];
    expect(messages.map((m) => [m.role, m.content.length])).toEqual([['system', 3000], ['user', 5000]]);
  });

  test('non-stream with blank lines before the JSON body', async () => {
    const s = await prober.send(req('ok_nonstream', { stream: false }));
    expect(s).toMatchObject({ outcome: 'ok', keepalives: 2, finish_reason: 'stop', token_events: 1, retry_after: '250ms' });
    expect(s.usage?.cache_hit_tokens).toBe(8);
    expect(s.first_data_us as number).toBeGreaterThan(s.first_keepalive_us as number);
    expect(s.first_token_us).toBeUndefined();
  });

  test('many requests in flight at once on one prober all succeed', async () => {
    const all = await Promise.all(Array.from({ length: 300 }, (_, i) => prober.send(req('echo_ok', { id: i }))));
    expect(all.every((s) => s.outcome === 'ok')).toBe(true);
    expect(new Set(all.map((s) => s.id)).size).toBe(300);
  });
});

describe('prober (OpenAI): every outcome class and detail', () => {
  const table: [string, Partial<ProbeRequest>, Partial<Sample>][] = [
    ['r429a', {}, { outcome: 'rate_limited', detail: 'http_429', status: 429, server_concurrency: 2000 }],
    ['r429b', {}, { outcome: 'rate_limited', detail: 'http_429', status: 429, server_concurrency: 5, server_limit: 5 }],
    ['r401', {}, { outcome: 'client_error', detail: 'http_401', status: 401 }],
    ['r500', {}, { outcome: 'server_error', detail: 'http_500', error: 'Internal error' }],
    ['r502html', {}, { outcome: 'server_error', detail: 'http_502', error: '502 Bad Gateway' }],
    ['queue_timeout_nonstream', { stream: false }, { outcome: 'server_error', detail: 'queue_timeout', keepalives: 3 }],
    ['queue_timeout_stream', {}, { outcome: 'server_error', detail: 'queue_timeout', keepalives: 2 }],
    ['queue_timeout_raw_in_stream', {}, { outcome: 'server_error', detail: 'queue_timeout', keepalives: 1 }],
    ['error_body', { stream: false }, { outcome: 'server_error', detail: 'error_body', error: 'Something broke' }],
    ['mid_stream_error', {}, { outcome: 'server_error', detail: 'mid_stream_error', error: 'upstream failed', token_events: 1 }],
    ['mid_stream_429', {}, { outcome: 'rate_limited', detail: 'mid_stream_error', server_concurrency: 2000 }],
    ['reset_before_headers', {}, { outcome: 'network', detail: 'reset' }],
    ['cut_mid_stream', {}, { outcome: 'network', detail: 'cut_mid_stream', status: 200 }],
    ['cut_while_queued', {}, { outcome: 'network', detail: 'cut_while_queued', keepalives: 2 }],
    ['cut_nonstream_queued', { stream: false }, { outcome: 'network', detail: 'cut_while_queued', keepalives: 2 }],
    ['empty_body', { stream: false }, { outcome: 'protocol', detail: 'empty_body', keepalives: 2 }],
    ['malformed_chunk', {}, { outcome: 'protocol', detail: 'bad_json' }],
    ['html_200', { stream: false }, { outcome: 'protocol', detail: 'html_body', error: 'Gateway Timeout' }],
    ['wrong_ct', {}, { outcome: 'protocol', detail: 'bad_content_type' }],
    ['truncated', {}, { outcome: 'protocol', detail: 'truncated', finish_reason: 'stop' }],
  ];
  test.each(table)('%s', async (model, over, want) => {
    const s = await prober.send(req(model, over));
    expect(s).toMatchObject(want);
    expect(s.end_us).toBeGreaterThanOrEqual(s.sent_us);
    if (s.error !== undefined) expect(s.error.length).toBeLessThanOrEqual(300);
    noKey(s);
  });

  test('the 401 message that echoed the key is redacted', async () => {
    const s = await prober.send(req('r401'));
    expect(s.error).toContain('[redacted]');
    noKey(s);
  });

  test('a keep-alive trickle past the deadline still times out at the absolute deadline', async () => {
    const now = clock.nowUs();
    const r = req('trickle_forever', { deadline_us: now + 150_000 });
    const s = await prober.send(r);
    expect(s).toMatchObject({ outcome: 'timeout', detail: 'deadline', status: 200 });
    expect(s.keepalives).toBeGreaterThanOrEqual(2);
    expect(s.first_data_us).toBeUndefined();
    expect(s.end_us).toBeGreaterThanOrEqual(r.deadline_us);
  });

  test('the same for a non-stream body trickling blank lines', async () => {
    const r = req('trickle_blank_forever', { stream: false, deadline_us: clock.nowUs() + 150_000 });
    const s = await prober.send(r);
    expect(s).toMatchObject({ outcome: 'timeout', detail: 'deadline', status: 200 });
    expect(s.keepalives).toBeGreaterThanOrEqual(2);
    expect(s.end_us).toBeGreaterThanOrEqual(r.deadline_us);
  });

  test('no response headers before the deadline: timeout without a status', async () => {
    const r = req('no_headers', { deadline_us: clock.nowUs() + 100_000 });
    const s = await prober.send(r);
    expect(s).toMatchObject({ outcome: 'timeout', detail: 'deadline' });
    expect(s.status).toBeUndefined();
    expect(s.end_us).toBeGreaterThanOrEqual(r.deadline_us);
  });

  test('a deadline already past: timeout at once, nothing sent', async () => {
    const before = server.seen.length;
    const s = await prober.send(req('echo_ok', { deadline_us: clock.nowUs() - 1 }));
    expect(s).toMatchObject({ outcome: 'timeout', detail: 'deadline' });
    expect(server.seen.length).toBe(before);
  });

  test("the caller's signal aborts a stream in progress, and an already-aborted signal sends nothing", async () => {
    const ctl = new AbortController();
    const p = prober.send(req('slow_stream'), ctl.signal, { onHeaders: () => setTimeout(() => ctl.abort(), 20) });
    const s = await p;
    expect(s).toMatchObject({ outcome: 'aborted', status: 200, token_events: 1 });
    const before = server.seen.length;
    const s2 = await prober.send(req('echo_ok'), AbortSignal.abort());
    expect(s2.outcome).toBe('aborted');
    expect(server.seen.length).toBe(before);
  });

  test("the driver's AbortHandle aborts a stream in progress just as a signal does", async () => {
    const h = new AbortHandle();
    const s = await prober.send(req('slow_stream'), h, { onHeaders: () => setTimeout(() => h.abort(), 20) });
    expect(s).toMatchObject({ outcome: 'aborted', status: 200, token_events: 1 });
    const done = new AbortHandle();
    done.abort();
    const before = server.seen.length;
    expect((await prober.send(req('echo_ok'), done)).outcome).toBe('aborted');
    expect(server.seen.length).toBe(before);
  });

  test('connection refused: network/refused; the prober still answers for other requests', async () => {
    const dead = await startServer({});
    const url = dead.url;
    await dead.close();
    const p = createProber({ baseUrl: url, protocol: 'openai', clock });
    const s = await p.send(req('x'));
    expect(s).toMatchObject({ outcome: 'network', detail: 'refused' });
    expect(s.error).toMatch(/ECONNREFUSED/);
    await p.close();
    const after = await p.send(req('x'));
    expect(after).toMatchObject({ outcome: 'network', detail: 'dispatch' });
  });
});

describe('prober (Anthropic)', () => {
  let an: TestServer;
  let p: Prober;
  const messageStart = anFrame('message_start', { message: { id: 'm', type: 'message', role: 'assistant', usage: { input_tokens: 4, output_tokens: 1, cache_read_input_tokens: 6 } } });
  beforeAll(async () => {
    an = await startServer({
      an_stream: (res) => {
        res.writeHead(200, SSE);
        trickle(res, [': keep-alive\n\n', 'event: ping\ndata: {"type":"ping"}\n\n', messageStart,
          anFrame('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
          anFrame('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hm' } }),
          anFrame('content_block_stop', { index: 0 }),
          anFrame('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Hi' } }),
          anFrame('content_block_delta', { index: 1, delta: { type: 'text_delta', text: '!' } }),
          anFrame('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }),
          anFrame('message_stop', {})], 3);
      },
      an_error: (res) => {
        res.writeHead(200, SSE);
        trickle(res, [messageStart, `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`], 3);
      },
      an_rl_event: (res) => {
        res.writeHead(200, SSE);
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Your current concurrency: 9.' } })}\n\n`);
      },
      an_429: (res) => {
        res.writeHead(429, JSON_CT);
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests. Your current concurrency: 11.' } }));
      },
      an_nonstream: (res) => {
        res.writeHead(200, JSON_CT);
        res.end(JSON.stringify({ id: 'm', type: 'message', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 2 } }));
      },
      an_truncated: (res) => {
        res.writeHead(200, SSE);
        res.end(messageStart + anFrame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'x' } }));
      },
    });
    p = createProber({ baseUrl: `${an.url}/anthropic`, protocol: 'anthropic', clock, headers: { 'x-extra': 'yes' } });
  });
  afterAll(async () => {
    await p.close();
    await an.close();
  });

  test('stream: keep-alive and leading ping count as keep-alives; thinking then text; usage; headers on the wire', async () => {
    const s = await p.send(req('an_stream', { thinking: true, user_id: 'user_7' }));
    expect(s).toMatchObject({ outcome: 'ok', keepalives: 2, token_events: 3, finish_reason: 'end_turn' });
    expect(s.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, cache_hit_tokens: 6, cache_miss_tokens: 4, reasoning_tokens: 0 });
    expect(s.first_data_us as number).toBeGreaterThan(s.first_keepalive_us as number);
    const seen = an.seen.find((x) => x.body.model === 'an_stream');
    expect(seen?.path).toBe('/anthropic/v1/messages');
    expect(seen?.headers['x-api-key']).toBe(KEY);
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen?.headers['x-extra']).toBe('yes');
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.body).toMatchObject({ metadata: { user_id: 'user_7' }, thinking: { type: 'enabled' }, system: 'sys' });
    noKey(s);
  });

  test.each([
    ['an_error', {}, { outcome: 'server_error', detail: 'mid_stream_error', error: 'Overloaded' }],
    ['an_rl_event', {}, { outcome: 'rate_limited', detail: 'mid_stream_error', server_concurrency: 9 }],
    ['an_429', {}, { outcome: 'rate_limited', detail: 'http_429', server_concurrency: 11 }],
    ['an_nonstream', { stream: false }, { outcome: 'ok', finish_reason: 'end_turn', usage: { prompt_tokens: 3, completion_tokens: 2, cache_hit_tokens: 0, cache_miss_tokens: 3, reasoning_tokens: 0 } }],
    ['an_truncated', {}, { outcome: 'protocol', detail: 'truncated', token_events: 1 }],
  ] as [string, Partial<ProbeRequest>, Partial<Sample>][])('%s', async (model, over, want) => {
    expect(await p.send(req(model, over))).toMatchObject(want);
  });
});

describe('getJson (pre-flight)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({}, {
      '/models': (res) => {
        res.writeHead(200, JSON_CT);
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'deepseek-v4-flash' }] }));
      },
      '/user/balance': (res, r) => {
        res.writeHead(401, JSON_CT);
        res.end(JSON.stringify({ error: { message: `bad key ${String(r.headers.authorization)}` } }));
      },
      '/garbage': (res) => {
        res.writeHead(200, JSON_CT);
        res.end('not json');
      },
    });
  });
  afterAll(() => s.close());

  test('ok, http error (key redacted), bad JSON, refused: never throws', async () => {
    const ok = await getJson(s.url, '/models', KEY, clock);
    expect(ok).toMatchObject({ ok: true, status: 200, body: { data: [{ id: 'deepseek-v4-flash' }] } });
    expect(s.seen.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    const bad = await getJson(s.url, '/user/balance', KEY, clock);
    expect(bad).toMatchObject({ ok: false, status: 401, detail: 'http_401' });
    expect(bad.error).not.toContain(KEY);
    expect(await getJson(s.url, '/garbage', KEY, clock)).toMatchObject({ ok: false, detail: 'bad_json' });
    const dead = await startServer({});
    await dead.close();
    expect(await getJson(dead.url, '/models', KEY, clock)).toMatchObject({ ok: false, detail: 'refused' });
  });
});
