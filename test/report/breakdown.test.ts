/**
 * Per-key and per-user_id charts are drawn from steps[].by_key / steps[].by_user (written by runs that record
 * them), and only when a model's steps name two or more keys; the target line is carried through the drain.
 */
import { describe, expect, it } from 'vitest';
import { chartData, targetThroughDrain } from '../../src/report/html-data.js';
import { generate } from './fixtures/generate.js';

describe('chart data', () => {
  it('draws 429 rate by API key and by user_id when the steps carry several', () => {
    const r = structuredClone(generate().report);
    for (const s of r.models[0]!.steps) {
      const half = Math.floor(s.requests / 2);
      const l = Math.floor(s.rate_limited / 2);
      Object.assign(s, {
        by_key: { 0: { requests: half, rate_limited: l }, 1: { requests: s.requests - half, rate_limited: s.rate_limited - l } },
        by_user: [{ user_id: 'team-a', requests: s.requests, rate_limited: s.rate_limited }],
      });
    }
    // Pro's steps name one key and one user_id: nothing to break down.
    for (const s of r.models[1]!.steps) Object.assign(s, { by_key: [{ id: '0', requests: s.requests, rate_limited: s.rate_limited }], by_user: [] });
    const d = chartData(r);
    const flash = d.models[0]!;
    // One user_id only: no per-user chart; two keys: one per-key chart, rates in %.
    expect(flash.breakdowns.map((b) => b.by)).toEqual(['API key']);
    const b = flash.breakdowns[0]!;
    expect(b.labels).toEqual(['key 0', 'key 1']);
    const over = b.x.findIndex((x) => x === 3200);
    expect(b.rate429[0]![over]!).toBeGreaterThan(0);
    expect(d.models[1]!.breakdowns).toEqual([]);
  });

  it('keeps the target through the drain', () => {
    const pts = [
      { t_ms: 0, model: 'm', inflight: 10, target: 10, rate_limited: 0, completed: 0 },
      { t_ms: 500, model: 'm', inflight: 6, target: 0, rate_limited: 0, completed: 4 },
      { t_ms: 1000, model: 'm', inflight: 0, target: 0, rate_limited: 0, completed: 6 },
    ];
    expect(targetThroughDrain(pts).map((p) => p.target)).toEqual([10, 10, 0]);
  });
});
