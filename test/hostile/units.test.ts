/**
 * The pieces of reliability, unit by unit: the SSE parser's bounds, secrets scrubbing and header merging, long
 * sleeps chained past Node's timer limit, the live TTFT window trimmed without a reader.
 */
import { describe, expect, test } from 'vitest';
import { SseParser } from '../../src/protocol/sse.js';
import { makeScrubber, mergeHeaders } from '../../src/secrets.js';
import { MAX_TIMER_MS, monotonicClock } from '../../src/time/clock.js';
import { DEFAULT_MAX_BODY } from '../../src/transport/exchange.js';
import { StepRecorder } from '../../src/measure/recorder.js';

function parser(max: number) {
  const got: string[] = [];
  const p = new SseParser(
    {
      onComment: () => undefined,
      onMessage: (_e, d) => got.push(d),
      onOverflow: (w) => got.push(`overflow:${w}`),
    },
    max,
  );
  return { p, got };
}

describe('SSE parser bounds', () => {
  test('an endless line: overflow once, nothing kept, later input ignored', () => {
    const { p, got } = parser(1000);
    p.push(Buffer.from('data: '));
    for (let i = 0; i < 100; i++) p.push(Buffer.alloc(100, 'x'));
    p.push(Buffer.from('\n\ndata: later\n\n'));
    expect(got).toEqual(['overflow:line']);
    expect(p.end()).toBe(false);
  });
  test('a long line inside one chunk', () => {
    const { p, got } = parser(1000);
    p.push(Buffer.from(`data: ${'y'.repeat(5000)}\n\n`));
    expect(got).toEqual(['overflow:line']);
  });
  test('an event of many short lines', () => {
    const { p, got } = parser(1000);
    for (let i = 0; i < 500; i++) p.push(Buffer.from('data: abcdefgh\n'));
    expect(got).toEqual(['overflow:event']);
  });
  test('up to the limit is fine', () => {
    const { p, got } = parser(1000);
    p.push(Buffer.from(`data: ${'z'.repeat(900)}\n\n`));
    expect(got).toEqual(['z'.repeat(900)]);
  });
  test('the default body limit is the documented 16 MiB', () => {
    expect(DEFAULT_MAX_BODY).toBe(16 * 1024 * 1024);
  });
});

describe('secrets', () => {
  test('every form of every secret is scrubbed; short values are left alone', () => {
    const s = makeScrubber(['sk-abcdefgh-1234', 'Bearer team-token-xyz', 'short', 'quo"te-secret']);
    expect(s.scrub('key sk-abcdefgh-1234 and team-token-xyz and Bearer team-token-xyz')).toBe('key [redacted] and [redacted] and [redacted]');
    expect(s.scrub(JSON.stringify({ h: 'quo"te-secret' }))).toBe('{"h":"[redacted]"}');
    expect(s.scrub('a short word')).toBe('a short word');
    const v = s.scrubValue({ list: ['x sk-abcdefgh-1234'], deep: { 'sk-abcdefgh-1234': 1 } });
    expect(JSON.stringify(v)).not.toContain('sk-abcdefgh');
  });
  test('header names merge case-insensitively: one authorization', () => {
    const h = mergeHeaders({ authorization: 'Bearer key', 'Content-Type': 'application/json' }, { Authorization: 'Bearer team', 'X-Team': 't' });
    expect(h).toEqual({ authorization: 'Bearer team', 'content-type': 'application/json', 'x-team': 't' });
  });
});

describe('long sleeps', () => {
  test('a sleep past 2^31-1 ms is chained, not fired at once', async () => {
    const clock = monotonicClock();
    const ac = new AbortController();
    let done = false;
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarn);
    void clock.sleepUntil(clock.nowUs() + (MAX_TIMER_MS + 10_000) * 1000, ac.signal).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    ac.abort();
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(true);
    process.off('warning', onWarn);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});

describe('flat memory', () => {
  test('the live TTFT window stays bounded when nothing reads it (--quiet)', () => {
    const r = new StepRecorder('m', 0, 10, 0, 0) as unknown as { add(s: unknown): void; liveTtft: number[] };
    for (let i = 0; i < 50_000; i++) {
      r.add({ id: i, model: 'm', step: 0, target_inflight: 10, key_index: 0, intended_us: 0, sent_us: 0, headers_us: 1, first_byte_us: 1, first_data_us: 1, first_token_us: 100, end_us: 200, keepalives: 0, outcome: 'ok', status: 200, inflight_at_send: 1 });
    }
    expect(r.liveTtft.length).toBeLessThanOrEqual(2048);
  });
});
