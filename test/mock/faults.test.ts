import { describe, expect, it } from 'vitest';
import type { MockConfigInput, MockEvent } from '../../src/mock/index.js';
import { manualClock } from '../../src/time/clock.js';
import { FAST, chat, dataJson, fetchText, frames, mock, send, until } from './helpers.js';

type Fault = NonNullable<MockConfigInput['faults']>[number];
const stream = (model = 'deepseek-v4-flash') => chat(model, { stream: true });
const XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>';

async function withFault(fault: Fault, extra: MockConfigInput = {}) {
  return mock({ latency: FAST, keepalive_interval: '2ms', ...extra, faults: [fault] });
}

/** Steps a manual clock forward in small real pauses until `pred` holds. */
async function drive(clock: ReturnType<typeof manualClock>, stepUs: number, pred: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !pred(); i++) {
    clock.advance(stepUs);
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!pred()) throw new Error('condition never held');
}

describe('fault injection', () => {
  it('http_error: the status with a DeepSeek body carrying the custom message verbatim', async () => {
    const h = await withFault({ kind: 'http_error', status: 503, message: XSS });
    const r = await fetchText(h.url, '/chat/completions', chat());
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error).toEqual({ message: XSS, type: 'server_error', param: null, code: null });
    const d = await withFault({ kind: 'http_error', status: 503 });
    expect(JSON.parse((await fetchText(d.url, '/chat/completions', chat())).body).error.message).toBe('Server overloaded, please try again later.');
  });

  it('html_gateway: an nginx HTML page (message unescaped, on purpose)', async () => {
    const h = await withFault({ kind: 'html_gateway', message: XSS });
    const r = await fetchText(h.url, '/chat/completions', chat());
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toBe('text/html');
    expect(r.body).toContain(`<center><h1>${XSS}</h1></center>`);
    expect(r.body).toContain('<title>502 Bad Gateway</title>');
  });

  it('forced_queue: keep-alives first, then the answer; start reports the wait', async () => {
    const h = await withFault({ kind: 'forced_queue', duration: '30ms' });
    const events: MockEvent[] = [];
    await h.events.subscribe((e) => events.push(e));
    const r = await fetchText(h.url, '/chat/completions', stream());
    expect(r.body).toMatch(/^(: keep-alive\n\n)+data: /);
    expect(r.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['admit', 'queue', 'start', 'first_token', 'finish']);
    expect(events[2]!.queued_ms!).toBeGreaterThanOrEqual(30);
    expect(events[2]!.fault).toBe('forced_queue');
  });

  it('error_after_headers: status 200, then only an error (data frame, or JSON body)', async () => {
    const h = await withFault({ kind: 'error_after_headers', message: XSS });
    const s = await fetchText(h.url, '/chat/completions', stream());
    expect(s.status).toBe(200);
    expect(frames(s.body)).toHaveLength(1);
    expect(dataJson(s.body)[0]!.error).toMatchObject({ message: XSS, type: 'server_error' });
    const b = await fetchText(h.url, '/chat/completions', chat());
    expect(b.status).toBe(200);
    expect(JSON.parse(b.body).error.message).toBe(XSS);
    const a = await fetchText(h.url, '/anthropic/v1/messages', { ...stream(), max_tokens: 5 });
    expect(a.body).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  });

  it('blank_only: status 200 and nothing but keep-alive bytes until the end', async () => {
    const h = await withFault({ kind: 'blank_only', duration: '20ms' });
    const s = await fetchText(h.url, '/chat/completions', stream());
    expect(s.status).toBe(200);
    expect(s.aborted).toBe(false);
    expect(s.body).toMatch(/^(: keep-alive\n\n)+$/);
    const b = await fetchText(h.url, '/chat/completions', chat());
    expect(b.body).toMatch(/^\n+$/);
  });

  it('disconnect: the connection dies after N tokens, without [DONE]', async () => {
    const h = await withFault({ kind: 'disconnect', after_tokens: 2 });
    const s = await fetchText(h.url, '/chat/completions', stream());
    expect(s.aborted).toBe(true);
    const chunks = dataJson(s.body);
    expect(chunks).toHaveLength(3); // role delta + 2 tokens
    expect(s.body).not.toContain('[DONE]');
    // Not streaming: the connection drops before any response.
    await expect(fetchText(h.url, '/chat/completions', chat())).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await h.state()).accounts[0]!.models['deepseek-v4-flash']!.in_flight).toBe(0);
  });

  it('stall: tokens stop after N for the stall duration, then resume to the end', async () => {
    const clock = manualClock(0);
    const h = await mock({ latency: FAST, faults: [{ kind: 'stall', after_tokens: 2, duration: '1h' }] }, { clock });
    const o = await drivenSend(clock, h.url);
    const tokens = () => dataJson(o.text()).length - 1;
    await drive(clock, 1000, () => tokens() >= 2);
    // Ten more minutes of mock time: still stalled.
    clock.advance(600_000_000);
    await settle();
    expect(tokens()).toBe(2);
    clock.advance(3_000_000_000);
    await drive(clock, 1000, () => o.text().endsWith('data: [DONE]\n\n'));
    expect(dataJson(o.text()).at(-1)!.usage.completion_tokens).toBe(5);
  });

  it('slow_headers: admitted and counted at once, headers only after the delay', async () => {
    const clock = manualClock(0);
    const h = await mock({ latency: FAST, faults: [{ kind: 'slow_headers', duration: '1h' }] }, { clock });
    let headers = false;
    const pending = send(h.url, '/chat/completions', stream()).then((o) => {
      headers = true;
      return o;
    });
    await until(h, (s) => s.accounts[0]!.models['deepseek-v4-flash']!.in_flight === 1);
    clock.advance(1_800_000_000);
    await settle();
    expect(headers).toBe(false);
    clock.advance(1_800_000_000);
    await drive(clock, 1000, () => headers);
    const o = await pending;
    await drive(clock, 1000, () => o.text().endsWith('data: [DONE]\n\n'));
  });

  it('malformed_chunk: one frame that is not JSON, then the stream goes on', async () => {
    const h = await withFault({ kind: 'malformed_chunk', after_tokens: 2 });
    const s = await fetchText(h.url, '/chat/completions', stream());
    const bad = frames(s.body).filter((f) => {
      try {
        if (f !== 'data: [DONE]') JSON.parse(f.slice(6));
        return false;
      } catch {
        return true;
      }
    });
    expect(bad).toHaveLength(1);
    expect(s.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('mid_stream_error: an error frame after N tokens ends the stream (both surfaces)', async () => {
    const h = await withFault({ kind: 'mid_stream_error', after_tokens: 3, message: XSS });
    const s = await fetchText(h.url, '/chat/completions', stream());
    const chunks = dataJson(s.body);
    expect(chunks).toHaveLength(5); // role, 3 tokens, error
    expect(chunks[4]!.error.message).toBe(XSS);
    expect(s.body).not.toContain('[DONE]');
    const a = await fetchText(h.url, '/anthropic/v1/messages', { ...stream(), max_tokens: 50 });
    const last = frames(a.body).at(-1)!;
    expect(last.split('\n')[0]).toBe('event: error');
    expect(JSON.parse(last.split('\n')[1]!.slice(6)).error.message).toBe(XSS);
  });

  it('finish_reason: ends early with insufficient_system_resource and honest usage', async () => {
    const h = await withFault({ kind: 'finish_reason', after_tokens: 2 });
    const s = await fetchText(h.url, '/chat/completions', stream());
    const last = dataJson(s.body).at(-1)!;
    expect(last.choices[0].finish_reason).toBe('insufficient_system_resource');
    expect(last.usage.completion_tokens).toBe(2);
    const b = JSON.parse((await fetchText(h.url, '/chat/completions', chat())).body);
    expect(b.choices[0].finish_reason).toBe('insufficient_system_resource');
    expect(b.usage.completion_tokens).toBe(2);
  });

  it('balance_drain: empties the balance, so the next request gets 402', async () => {
    const h = await mock({ latency: FAST, faults: [{ kind: 'balance_drain', rate: 1 }] });
    expect((await fetchText(h.url, '/chat/completions', chat())).status).toBe(200);
    const r = await fetchText(h.url, '/chat/completions', chat());
    expect(r.status).toBe(402);
    const bal = JSON.parse((await fetchText(h.url, '/user/balance', undefined, { authorization: 'Bearer k' })).body);
    expect(bal.is_available).toBe(false);
  });

  it('matches by model and stream, and fires at the seeded rate', async () => {
    const h = await withFault({ kind: 'http_error', status: 500, match: { model: 'deepseek-v4-pro', stream: false } });
    expect((await fetchText(h.url, '/chat/completions', chat('deepseek-v4-flash'))).status).toBe(200);
    expect((await fetchText(h.url, '/chat/completions', stream('deepseek-v4-pro'))).status).toBe(200);
    expect((await fetchText(h.url, '/chat/completions', chat('deepseek-v4-pro'))).status).toBe(500);
    const run = async () => {
      const m = await mock({ latency: FAST, seed: 7, faults: [{ kind: 'http_error', rate: 0.5 }] });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await fetchText(m.url, '/chat/completions', chat())).status);
      return out;
    };
    const a = await run();
    expect(a.filter((s) => s === 500).length).toBeGreaterThan(5);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(await run()).toEqual(a);
  });
});

/** Gives the wheel (5 ms real ticks) a few turns to act on a clock change. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 30));
}

/** Sends a stream under a manual clock (headers go out at start, which needs no time to pass). */
async function drivenSend(_clock: ReturnType<typeof manualClock>, url: string) {
  return send(url, '/chat/completions', stream());
}
