import { describe, expect, it } from 'vitest';
import type { MockEvent } from '../../src/mock/index.js';
import { FAST, chat, dataJson, fetchText, mock, send, until } from './helpers.js';

const stream = () => chat('deepseek-v4-flash', { stream: true });

describe('the queue', () => {
  it('cuts a request that waited past the queue timeout (time_scale shrinks 100 s to 100 ms)', async () => {
    const h = await mock({
      time_scale: 0.001,
      queue_timeout: '100s',
      keepalive_interval: '5s',
      slots: { 'deepseek-v4-flash': 1 },
      latency: { prefill_overhead: '10h' },
    });
    const events: MockEvent[] = [];
    await h.events.subscribe((e) => events.push(e));
    const blocker = await send(h.url, '/chat/completions', stream());
    const queued = await send(h.url, '/chat/completions', stream());
    expect(queued.status).toBe(200);
    const { body, aborted } = await queued.done;
    expect(aborted).toBe(true);
    expect(body).toMatch(/^(: keep-alive\n\n)+$/);
    const timeout = events.find((e) => e.type === 'timeout')!;
    const admit = events.find((e) => e.type === 'admit' && e.id === timeout.id)!;
    expect(timeout.queued_ms).toBeCloseTo(timeout.t_ms - admit.t_ms, 3);
    expect(timeout.queued_ms!).toBeGreaterThanOrEqual(100);
    const s = await h.state();
    expect(s.totals.timed_out).toBe(1);
    expect(s.accounts[0]!.models['deepseek-v4-flash']).toMatchObject({ in_flight: 1, queued: 0 });
    blocker.abort();
  });

  it('ends with the 900-second error body in error_body mode (stream and not)', async () => {
    const h = await mock({
      time_scale: 0.001,
      queue_timeout: '50s',
      queue_timeout_mode: 'error_body',
      keepalive_interval: '5s',
      slots: { 'deepseek-v4-flash': 1 },
      latency: { prefill_overhead: '10h' },
    });
    const blocker = await send(h.url, '/chat/completions', stream());
    const [s, b] = await Promise.all([fetchText(h.url, '/chat/completions', stream()), fetchText(h.url, '/chat/completions', chat())]);
    expect(s.status).toBe(200);
    expect(s.aborted).toBe(false);
    expect(s.body).toMatch(/^(: keep-alive\n\n)+data: \{"error":/);
    expect(dataJson(s.body)[0]!.error.message).toContain('within the 900-second timeout limit');
    expect(b.status).toBe(200);
    expect(b.body).toMatch(/^\n+\{"error"/);
    expect(JSON.parse(b.body)).toEqual({
      error: { message: 'We were unable to start processing your request within the 900-second timeout limit. Please try again later.' },
    });
    blocker.abort();
  });

  it('emits admit, queue, start (with queued_ms), first_token and finish for a queued stream', async () => {
    const h = await mock({ latency: { ...FAST, prefill_overhead: '40ms' }, slots: { 'deepseek-v4-flash': 1 }, keepalive_interval: '5ms' });
    const events: MockEvent[] = [];
    await h.events.subscribe((e) => events.push(e));
    const first = fetchText(h.url, '/chat/completions', stream());
    await until(h, (x) => x.servers['deepseek-v4-flash']!.running === 1);
    const second = await fetchText(h.url, '/chat/completions', stream());
    await first;
    const ids = [...new Set(events.map((e) => e.id))];
    expect(ids).toHaveLength(2);
    const seq = (id: number) => events.filter((e) => e.id === id).map((e) => e.type);
    expect(seq(ids[0]!)).toEqual(['admit', 'start', 'first_token', 'finish']);
    expect(seq(ids[1]!)).toEqual(['admit', 'queue', 'start', 'first_token', 'finish']);
    const start2 = events.find((e) => e.id === ids[1] && e.type === 'start')!;
    const admit2 = events.find((e) => e.id === ids[1] && e.type === 'admit')!;
    const finish1 = events.find((e) => e.id === ids[0] && e.type === 'finish')!;
    expect(start2.queued_ms).toBeCloseTo(start2.t_ms - admit2.t_ms, 3);
    // The queued request starts when the first one frees its slot.
    expect(start2.t_ms).toBeGreaterThanOrEqual(finish1.t_ms);
    expect(events.find((e) => e.id === ids[0] && e.type === 'start')!.queued_ms).toBe(0);
    expect(events.find((e) => e.type === 'finish' && e.id === ids[1])).toMatchObject({ outcome: 'ok', tokens: 5 });
    expect(second.body.startsWith(': keep-alive\n\n')).toBe(true);
  });

  it('reports rejects with status, reason and the counts behind a 429', async () => {
    const h = await mock({ caps: { 'deepseek-v4-flash': 0 } });
    const events: MockEvent[] = [];
    await h.events.subscribe((e) => events.push(e));
    await fetchText(h.url, '/chat/completions', chat());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'reject', status: 429, reason: 'cap', concurrency: 0, cap: 0, model: 'deepseek-v4-flash', account: 'default' });
  });
});
