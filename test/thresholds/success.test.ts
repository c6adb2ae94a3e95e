import { describe, expect, it } from 'vitest';
import { evaluateThresholds } from '../../src/measure/thresholds.js';
import { parseThreshold } from '../../src/measure/thresholds-parse.js';
import { StepRecorder } from '../../src/measure/recorder.js';
import type { Sample } from '../../src/types.js';
import { fixtureReport, step } from './fixture.js';

const spec = (expression: string) => ({ expression, abort_on_fail: false });

describe('success checks for CI', () => {
  const report = fixtureReport();

  it.each([
    // flash: 100 + 100 + 396 ok; pro: 60 ok
    ['ok(deepseek-v4-flash) >= 596', true, 596],
    ['ok(deepseek-v4-flash, inflight <= 200) >= 201', false, 200],
    ['ok(deepseek-v4-pro) >= 60', true, 60],
    ['ok >= 656', true, 656],
    // success rate: ok / (ok + errors); 429s are not counted: 396 / 400 at 400 in flight
    ['success_rate(deepseek-v4-flash, inflight == 400) >= 99%', true, 396 / 400],
    ['success_rate(deepseek-v4-flash, inflight == 400) >= 99.5%', false, 396 / 400],
    ['success_rate(deepseek-v4-pro) == 1', true, 1],
  ])('%s -> %s', (expr, passed, actual) => {
    const [r] = evaluateThresholds([spec(expr)], report);
    expect(r!.passed).toBe(passed);
    expect(r!.actual).toBeCloseTo(actual as number, 9);
  });

  it('zero successes is a value that fails, not "no data"', () => {
    const r = fixtureReport();
    r.models[1]!.steps = [step('deepseek-v4-pro', 0, 50, { requests: 50, ok: 0, limited: 0, errors: { timeout: 50 } })];
    const [ok, rate] = evaluateThresholds([spec('ok(deepseek-v4-pro) >= 1'), spec('success_rate(deepseek-v4-pro) >= 99%')], r);
    expect(ok!.passed).toBe(false);
    expect(ok!.actual).toBe(0);
    expect(rate!.passed).toBe(false);
    expect(rate!.actual).toBe(0);
  });

  it('a threshold with no data fails with a clear message; `or none` lets it pass', () => {
    const r = fixtureReport();
    // No keep-alive anywhere: nothing queued.
    for (const m of r.models) m.steps = m.steps.map((s, i) => step(m.model, i, s.target_inflight, { requests: s.requests, ok: s.ok, limited: s.rate_limited }));
    const [strict, lenient, stillChecked] = evaluateThresholds(
      [spec('p95(keepalive_wait) < 1s'), spec('p95(keepalive_wait) < 1s or none'), spec('p99(ttft, deepseek-v4-pro) < 1s or none')],
      r,
    );
    expect(strict!.passed).toBe(false);
    expect(strict!.actual_text).toBe('no data');
    expect(strict!.note).toMatch(/no keepalive_wait data: a threshold with no data fails; add `or none` if none is fine/);
    expect(lenient!.passed).toBe(true);
    expect(lenient!.actual_text).toBe('none');
    // With data, `or none` changes nothing: the value is still compared.
    const withData = evaluateThresholds([spec('p95(keepalive_wait) < 1s or none')], fixtureReport())[0]!;
    expect(withData.passed).toBe(false);
    expect(withData.actual).toBeCloseTo(1500, -1);
    expect(stillChecked!.actual_text).toBe('none');
  });

  it('parses `or none` and rejects anything else after `or`; ok takes no unit', () => {
    expect(parseThreshold('p95(keepalive_wait) < 1s or none').ast?.orNone).toBe(true);
    expect(parseThreshold('p95(keepalive_wait) < 1s or zero').error?.message).toMatch(/expected `none` after `or`/);
    expect(parseThreshold('ok(deepseek-v4-pro) >= 5s').error?.message).toMatch(/`ok` is a number of requests and takes no unit/);
    expect(parseThreshold('success_rate(deepseek-v4-pro) >= 99%').ast).toMatchObject({ metric: 'success_rate', unit: 'fraction', value: 0.99 });
  });
});

describe('latency histograms take admitted, completed requests only', () => {
  const base = (id: number, over: Partial<Sample>): Sample => ({
    id, model: 'm', step: 0, target_inflight: 4, key_index: 0, intended_us: 0, sent_us: 0, headers_us: 1000, status: 200,
    first_byte_us: 1000, first_data_us: 1000, first_token_us: 50_000, end_us: 900_000, keepalives: 0, outcome: 'ok', inflight_at_send: 1, ...over,
  });

  it('aborted requests (cut by dsprobe or otherwise) never feed TTFT, latency or TPOT', () => {
    const rec = new StepRecorder('m', 0, 4, 0, 0);
    rec.add(base(1, { first_token_us: 100_000, end_us: 1_000_000 }));
    // Cut requests with a very fast first token: they must not pull TTFT down.
    for (const [i, detail] of ['step_down', 'search_done', 'drain_timeout', 'stopped', 'interrupted'].entries()) {
      rec.add(base(10 + i, { outcome: 'aborted', detail, first_token_us: 1_000, end_us: 2_000, token_events: 3 }));
    }
    const r = rec.report(2_000_000);
    expect(r.requests).toBe(6);
    expect(r.ttft_ms.count).toBe(1);
    expect(r.ttft_ms.p50).toBeCloseTo(100, 0);
    expect(r.latency_ms.count).toBe(1);
    const [t] = evaluateThresholds([spec('max(ttft) < 50ms')], { ...fixtureReport(), models: [{ ...fixtureReport().models[0]!, model: 'm', steps: [r] }] });
    expect(t!.passed).toBe(false);
    expect(t!.actual).toBeCloseTo(100, 0);
  });
});
