/**
 * Merging shards: two shards of one run (its slots dealt round-robin) merge back into exactly the single run's
 * counts, percentiles (from merged HDR histograms) and cap.
 */
import { describe, expect, it } from 'vitest';
import { mergeReports, combineSteps } from '../../src/report/merge.js';
import { decodeHistogram, percentilesMs } from '../../src/measure/hist.js';
import { DsprobeError, EXIT } from '../../src/errors.js';
import { generate } from './fixtures/generate.js';
import { evaluateThresholds } from '../../src/measure/thresholds.js';
import type { Percentiles } from '../../src/types.js';

/** HDR keeps 3 significant digits: two readings of one distribution agree within 0.1 %. */
function closeHdr(a: Percentiles, b: Percentiles): void {
  expect(a.count).toBe(b.count);
  for (const k of ['p50', 'p90', 'p95', 'p99', 'max'] as const) {
    expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(Math.max(0.001, b[k] * 0.001));
  }
  expect(Math.abs(a.mean - b.mean)).toBeLessThanOrEqual(Math.max(0.001, b.mean * 0.001));
}

describe('mergeReports', () => {
  const { report: single, shards } = generate({ shards: 2, seed: 7 });

  it('gives the single run its counts, in-flight, percentiles and caps back', () => {
    expect(shards).toHaveLength(2);
    // The shards really are partial: each holds about half the requests.
    expect(shards[0]!.models[0]!.steps[3]!.requests).toBeLessThan(single.models[0]!.steps[3]!.requests);
    const merged = mergeReports(shards);
    expect(merged.shards).toBe(2);
    expect(merged.models.map((m) => m.model)).toEqual(single.models.map((m) => m.model));
    for (const [mi, sm] of single.models.entries()) {
      const mm = merged.models[mi]!;
      expect(mm.steps).toHaveLength(sm.steps.length);
      for (const [i, s] of sm.steps.entries()) {
        const m = mm.steps[i]!;
        expect(m.target_inflight).toBe(s.target_inflight);
        expect(m.achieved_inflight).toBeCloseTo(s.achieved_inflight, 1);
        expect(m.peak_admitted).toBe(s.peak_admitted);
        expect(m.requests).toBe(s.requests);
        expect(m.ok).toBe(s.ok);
        expect(m.rate_limited).toBe(s.rate_limited);
        expect(m.rate_429).toBeCloseTo(s.rate_429, 6);
        expect(m.outcomes).toEqual(s.outcomes);
        expect(m.statuses).toEqual(s.statuses);
        expect(m.queued).toBe(s.queued);
        expect(m.tokens).toEqual(s.tokens);
        expect(m.server_reported).toBe(s.server_reported);
        closeHdr(m.ttft_ms, s.ttft_ms);
        closeHdr(m.latency_ms, s.latency_ms);
        // The keep-alive wait is estimated against each run's own unqueued baseline (a per-step median), so shards
        // estimate against their own baselines: same count, figures within 5 % or 5 ms, not bit-exact.
        expect(m.keepalive_wait_ms.count).toBe(s.keepalive_wait_ms.count);
        for (const k of ['p50', 'p99'] as const) {
          expect(Math.abs(m.keepalive_wait_ms[k] - s.keepalive_wait_ms[k])).toBeLessThanOrEqual(Math.max(5, 0.05 * s.keepalive_wait_ms[k]));
        }
        closeHdr(m.tpot_ms, s.tpot_ms);
        expect(m.errors.map((g) => [g.outcome, g.status, g.detail, g.count]).sort()).toEqual(
          s.errors.map((g) => [g.outcome, g.status, g.detail, g.count]).sort(),
        );
      }
      expect(mm.cap.estimate).toBe(sm.cap.estimate);
      expect(mm.cap.low).toBe(sm.cap.low);
      expect(mm.cap.high).toBe(sm.cap.high);
      expect(mm.cap.status).toBe(sm.cap.status);
      expect(mm.cap.queueing_began_at).toBe(sm.cap.queueing_began_at);
      expect(mm.spend.requests).toBe(sm.spend.requests);
      expect(mm.spend.tokens).toEqual(sm.spend.tokens);
    }
    expect(merged.cost.requests).toBe(single.cost.requests);
    expect(merged.cost.tokens).toEqual(single.cost.tokens);
    expect(merged.models[0]!.cap.estimate).toBe(2500);
    expect(merged.models[1]!.cap.estimate).toBe(480);
  });

  it('sums in-flight on the timeline of shards that share a start time', () => {
    const merged = mergeReports(shards);
    const peak = Math.max(...merged.timeline.filter((p) => p.model === 'deepseek-v4-flash').map((p) => p.target));
    expect(peak).toBe(Math.max(...single.timeline.filter((p) => p.model === 'deepseek-v4-flash').map((p) => p.target)));
  });

  it('refuses shards of different scenarios or different steps, as usage errors', () => {
    const other = structuredClone(shards[1]!);
    other.name = 'another-scenario';
    expect(() => mergeReports([shards[0]!, other])).toThrow(/same scenario|another-scenario/);
    const skewed = structuredClone(shards[1]!);
    skewed.models[0]!.steps[2]!.target_inflight += 10;
    try {
      mergeReports([shards[0]!, skewed]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DsprobeError);
      expect((err as DsprobeError).exitCode).toBe(EXIT.USAGE);
      expect((err as DsprobeError).problems[0]?.hint).toMatch(/ramp/);
    }
  });

  it('judges thresholds again on the merged data, as the single run would', () => {
    const merged = mergeReports(shards);
    const specs = single.thresholds.map((t) => ({ expression: t.expression, abort_on_fail: t.abort_on_fail }));
    const direct = evaluateThresholds(specs, single);
    expect(merged.thresholds.map((t) => [t.expression, t.passed, t.actual_text])).toEqual(direct.map((t) => [t.expression, t.passed, t.actual_text]));
    // Pro's cap (480) is below 500 on the merged run even though each shard saw only half of it.
    const cap = merged.thresholds.find((t) => t.expression.startsWith('cap('))!;
    expect(cap.passed).toBe(false);
    expect(cap.actual).toBe(480);
  });

  it('combines sequential steps at one level with time-weighted in-flight', () => {
    const s = single.models[0]!.steps;
    const c = combineSteps([s[0]!, s[1]!], 'sequence');
    expect(c.requests).toBe(s[0]!.requests + s[1]!.requests);
    expect(c.duration_ms).toBe(s[0]!.duration_ms + s[1]!.duration_ms);
    expect(c.achieved_inflight).toBeCloseTo((s[0]!.achieved_inflight + s[1]!.achieved_inflight) / 2, 1);
  });

  it('computes percentiles exactly as percentilesMs does, only faster', () => {
    let n = 0;
    for (const m of single.models) {
      for (const s of m.steps) {
        for (const enc of Object.values(s.histograms)) {
          const h = decodeHistogram(enc);
          // The one-pass mean equals hdr-histogram-js's own (slow, allocating) mean exactly.
          expect(percentilesMs(h).mean).toEqual(h.totalCount ? Math.round(h.mean) / 1000 : 0);
          h.destroy();
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(40);
  });
});
