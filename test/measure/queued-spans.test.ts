/**
 * The spans of queued requests are kept until a step's report: bounded, and still counting every queued request
 * (a server that queues every request for ten minutes must not cost one entry per request).
 */
import { describe, expect, test } from 'vitest';
import { QueuedSpans } from '../../src/measure/queued-spans.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import { decodeHistogram } from '../../src/measure/hist.js';
import type { Sample } from '../../src/types.js';

function collect(q: QueuedSpans): { ttfd: number | null; lastKa: number; iv: number | null; weight: number }[] {
  const out: { ttfd: number | null; lastKa: number; iv: number | null; weight: number }[] = [];
  q.forEach((ttfd, lastKa, iv, weight) => out.push({ ttfd, lastKa, iv, weight }));
  return out;
}

describe('queued spans', () => {
  test('below the bound every span is kept as it came, each standing for one request', () => {
    const q = new QueuedSpans(100);
    for (let i = 0; i < 50; i++) q.add(i % 3 === 0 ? null : i * 10, i, i % 2 ? 5 : null);
    const spans = collect(q);
    expect(spans).toHaveLength(50);
    expect(spans[3]).toEqual({ ttfd: null, lastKa: 3, iv: 5, weight: 1 });
    expect(spans[4]).toEqual({ ttfd: 40, lastKa: 4, iv: null, weight: 1 });
    expect(q.count).toBe(50);
  });

  test('past the bound the store thins deterministically and the weights still sum to every request', () => {
    for (const n of [9, 16, 17, 1000, 4097]) {
      const q = new QueuedSpans(8);
      for (let i = 0; i < n; i++) q.add(i, i, null);
      const spans = collect(q);
      expect(spans.length).toBeLessThanOrEqual(8);
      expect(spans.reduce((a, s) => a + s.weight, 0)).toBe(n);
      // Evenly spread over the whole run: the kept spans are every stride-th request from the first.
      const stride = spans[0]!.weight;
      spans.forEach((s, k) => expect(s.ttfd).toBe(k * stride));
    }
  });

  test('a long queueing step reports every queued request in its wait histogram', () => {
    const rec = new StepRecorder('deepseek-v4-flash', 0, 10, 0, 0);
    const base: Sample = { id: 0, model: 'deepseek-v4-flash', step: 0, target_inflight: 10, key_index: 0, intended_us: 0, sent_us: 0, keepalives: 0, end_us: 1000, outcome: 'ok', inflight_at_send: 1, status: 200 };
    // 1,000 unqueued (time to first data 100 µs) and 200,000 queued ones (first data at 1..2 s, keep-alives until just before).
    for (let i = 0; i < 1000; i++) rec.add({ ...base, id: i, first_data_us: 100, first_token_us: 100 });
    const queued = 200_000;
    for (let i = 0; i < queued; i++) {
      const ttfd = 1_000_000 + (i % 1000) * 1000;
      rec.add({ ...base, id: 1000 + i, keepalives: 2, first_keepalive_us: 10, last_keepalive_us: ttfd - 500_000, first_data_us: ttfd, first_token_us: ttfd, end_us: ttfd + 1000 });
    }
    const r = rec.report(3_000_000);
    expect(r.queued).toBe(queued);
    expect(decodeHistogram(r.histograms.keepalive_wait).totalCount).toBe(queued);
    // The wait is time to first data less the 100 µs baseline: spread evenly from 1 s to 2 s.
    const p50 = r.keepalive_wait_ms?.p50 ?? NaN;
    expect(p50).toBeGreaterThan(1450);
    expect(p50).toBeLessThan(1550);
  });
});
