import { describe, expect, it } from 'vitest';
import { evaluateThresholds, compare } from '../../src/measure/thresholds.js';
import { fixtureReport } from './fixture.js';

const spec = (expression: string, abort_on_fail = false) => ({ expression, abort_on_fail });

describe('evaluateThresholds on a fixed report', () => {
  const report = fixtureReport();
  it.each([
    // caps
    ['cap(deepseek-v4-flash) >= 399', true, 399, '399'],
    ['cap(deepseek-v4-flash) >= 2000', false, 399, '399'],
    ['cap(deepseek-v4-flash) == 399', true, 399, '399'],
    ['cap(deepseek-v4-pro) >= 50', true, 50, '50'], // not reached: the lower bound counts
    ['cap(deepseek-v4-pro) > 50', false, 50, '50'],
    // 429 rate: 40 of 440 at 400; 40 of 640 over all flash steps; 40/700 over everything
    ['rate_429(deepseek-v4-flash, inflight <= 200) == 0', true, 0, '0%'],
    ['rate_429(deepseek-v4-flash, inflight >= 400) < 10%', true, 40 / 440, '9.09%'],
    ['rate_429(deepseek-v4-flash) < 0.05', false, 40 / 640, '6.25%'],
    ['rate_429 < 0.06', true, 40 / 700, '5.71%'],
    // error rate: 4 server errors of 440 at 400
    ['error_rate(deepseek-v4-flash, inflight == 400) < 1%', true, 4 / 440, '0.91%'],
    ['error_rate(deepseek-v4-flash, inflight == 400) < 0.5%', false, 4 / 440, '0.91%'],
    ['error_rate(deepseek-v4-pro) == 0', true, 0, '0%'],
    // percentiles over merged histograms
    ['p50(ttft, deepseek-v4-flash, inflight <= 100) < 51ms', true, 50, '50ms'],
    ['max(ttft, deepseek-v4-flash, inflight <= 100) <= 100.1ms', true, 100, '100ms'],
    ['p50(ttft, deepseek-v4-flash, inflight <= 200) >= 1s', false, 100, '100ms'],
    ['p99(ttft, deepseek-v4-flash) < 2.5s', false, 3000, '3s'],
    ['p99(ttft, deepseek-v4-flash, inflight <= 200) < 2.5s', true, 1099, '1.1s'],
    ['p50(ttft, deepseek-v4-flash, inflight >= 200) > 1s', true, 1100, '1.1s'],
    ['p95(keepalive_wait) < 1s', false, 1500, '1.5s'],
    ['max(ttft, deepseek-v4-pro) < 20.1ms', true, 20, '20ms'],
  ])('%s -> %s', (expr, passed, actual, text) => {
    const [r] = evaluateThresholds([spec(expr)], report);
    expect(r!.passed).toBe(passed);
    // HDR keeps 3 significant digits: values are exact to 0.1 %.
    expect(Math.abs(r!.actual! - (actual as number))).toBeLessThanOrEqual(0.001 * (actual as number) + 1e-9);
    expect(r!.actual_text).toBe(text);
    expect(r!.expression).toBe(expr);
  });

  it('merges histograms exactly: the median of two steps is not the mean of their medians', () => {
    const [r] = evaluateThresholds([spec('p50(ttft, deepseek-v4-flash, inflight <= 200) > 0')], report);
    // 200 values: 1..100 and 1001..1100; the 50th percentile is 100 ms (HDR precision), far from (50+1050)/2.
    expect(r!.actual).toBeCloseTo(100, 0);
  });

  it('fails with a note when there is no data, or the model is unknown, or the expression is bad', () => {
    const rs = evaluateThresholds(
      [spec('p99(latency, deepseek-v4-flash) < 1s'), spec('rate_429(deepseek-v4-flash, inflight > 9999) < 1%'), spec('cap(nope) > 1'), spec('p99(ttf) < 1s', true)],
      report,
    );
    expect(rs.map((r) => r.passed)).toEqual([false, false, false, false]);
    expect(rs.map((r) => r.actual)).toEqual([null, null, null, null]);
    expect(rs[0]!.note).toMatch(/no latency data/);
    expect(rs[1]!.note).toMatch(/no requests at inflight > 9999/);
    expect(rs[2]!.note).toMatch(/model nope is not in this report/);
    expect(rs[3]!.note).toMatch(/does not parse: unknown field `ttf` \(column 5\)/);
    expect(rs[3]!.abort_on_fail).toBe(true);
  });

  it('falls back to the steps\' own percentiles when histograms are missing', () => {
    const r2 = fixtureReport();
    for (const m of r2.models) for (const s of m.steps) s.histograms = { ttft: '', latency: '', keepalive_wait: '', tpot: '' };
    const [one, many] = evaluateThresholds([spec('p99(ttft, deepseek-v4-pro) < 1s'), spec('p99(ttft, deepseek-v4-flash) < 1s')], r2);
    expect(one!.actual).toBeCloseTo(20, 1);
    expect(one!.note).toBeUndefined();
    expect(many!.actual).toBeCloseTo(3000, -1);
    expect(many!.note).toMatch(/worst step value/);
  });
});

describe('compare', () => {
  it.each([
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [0.1 + 0.2, '==', 0.3, true],
    [0.1 + 0.2, '<=', 0.3, true],
    [0.1 + 0.2, '>', 0.3, false],
    [3, '!=', 3, false],
    [3, '>=', 2, true],
  ] as const)('%d %s %d = %s', (a, op, b, expected) => {
    expect(compare(a, op, b)).toBe(expected);
  });
});
