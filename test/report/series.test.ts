/**
 * The per-second series: samples placed by end time, latency from successes only, failures counted by kind, and
 * bounded (the bucket width doubles rather than the series growing past MAX_BUCKETS).
 */
import { describe, expect, it } from 'vitest';
import { MAX_BUCKETS, SeriesRecorder, seriesOf } from '../../src/measure/series.js';
import type { Outcome, Sample } from '../../src/types.js';

let id = 0;
function sample(model: string, endS: number, outcome: Outcome, latencyMs = 100, ttftMs = 40, detail?: string): Sample {
  const end = Math.round(endS * 1e6);
  const sent = end - latencyMs * 1000;
  return { id: id++, model, step: 0, target_inflight: 1, key_index: 0, intended_us: sent, sent_us: sent, keepalives: 0, end_us: end, outcome, inflight_at_send: 1, ...(outcome === 'ok' || outcome === 'aborted' ? { first_token_us: sent + ttftMs * 1000 } : {}), ...(detail ? { detail } : {}) };
}

describe('series', () => {
  it('buckets by end time per model; latency from successes; errors and timeouts counted apart', () => {
    const s = seriesOf(
      [
        sample('a', 0.5, 'ok', 100, 40),
        sample('a', 0.7, 'ok', 300, 80),
        sample('a', 1.2, 'rate_limited'),
        sample('a', 1.3, 'timeout', 5000),
        sample('a', 1.4, 'server_error'),
        sample('a', 2.5, 'aborted', 100, 50, 'search_done'),
        sample('b', 0.1, 'ok', 1000, 200),
      ],
      ['b', 'a'],
    );
    expect(s.bucket_ms).toBe(1000);
    expect(s.models.map((m) => m.model)).toEqual(['b', 'a']);
    const a = s.models[1]!;
    expect(a.t_s).toEqual([0, 1, 2]);
    expect(a.ok).toEqual([2, 0, 0]);
    expect(a.rate_limited).toEqual([0, 1, 0]);
    expect(a.timeouts).toEqual([0, 1, 0]);
    expect(a.errors).toEqual([0, 1, 0]);
    // 2 significant digits: within 1 %.
    expect(a.latency_p99_ms[0]!).toBeCloseTo(300, -1);
    expect(a.latency_p50_ms[0]!).toBeCloseTo(100, -1);
    expect(a.latency_p50_ms[1]).toBeNull();
    // dsprobe's own cut (search done) still had a real first token: TTFT yes, end-to-end no.
    expect(a.ttft_p50_ms[2]!).toBeCloseTo(50, -1);
    expect(a.latency_p50_ms[2]).toBeNull();
  });

  it('stays bounded on a long run: the width doubles and counts are kept', () => {
    const r = new SeriesRecorder();
    const n = MAX_BUCKETS * 3;
    // Mostly 429s (no histogram to build), a success every 50 s: bounded in buckets, exact in counts.
    for (let i = 0; i < n; i++) r.add(sample('a', i + 0.5, i % 50 === 0 ? 'ok' : 'rate_limited'));
    const s = r.result();
    r.destroy();
    expect(s.bucket_ms).toBe(4000);
    expect(s.models[0]!.t_s.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expect(s.models[0]!.ok.reduce((x, y) => x + y, 0)).toBe(n / 50);
    expect(s.models[0]!.rate_limited.reduce((x, y) => x + y, 0)).toBe(n - n / 50);
    expect(s.models[0]!.latency_p50_ms.filter((v) => v !== null).length).toBe(n / 50);
  });
});
