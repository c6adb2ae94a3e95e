/**
 * Headroom against a plan: the `need:` key, the cap weighed against it (in flight, or a rate by Little's law),
 * the verdict, and the `headroom(MODEL)` threshold.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/index.js';
import { applyNeed, parseNeedText } from '../../src/scenario/need.js';
import { computeHeadroom, TIGHT_BELOW } from '../../src/measure/headroom.js';
import { attachHeadroom, needsOf } from '../../src/report/headroom.js';
import { evaluateThresholds, parseThreshold } from '../../src/measure/thresholds.js';
import { mergeEncoded } from '../../src/measure/hist.js';
import { DsprobeError } from '../../src/errors.js';
import { generate } from './fixtures/generate.js';

const yaml = (need: string) => `target: { url: mock }
models:
  deepseek-v4-flash: { need: 1800 }
  deepseek-v4-pro:
    need: ${need}
`;

describe('the need key', () => {
  it('takes requests in flight or a planned rate per second, minute or hour', () => {
    const r = parseScenario(yaml('{ rate: 1200/min }'), 's.yaml');
    expect(r.problems).toEqual([]);
    expect(r.scenario!.models.map((m) => m.need)).toEqual([{ inflight: 1800 }, { rate_per_s: 20 }]);
    expect(parseScenario(yaml('{ rate: 300 }'), 's.yaml').scenario!.models[1]!.need).toEqual({ rate_per_s: 300 });
    expect(parseScenario(yaml('{ rate: 90000/h }'), 's.yaml').scenario!.models[1]!.need).toEqual({ rate_per_s: 25 });
  });

  it('points at a bad need with file:line:col and a hint', () => {
    const bad = parseScenario(yaml('{ rate: fast }'), 's.yaml');
    expect(bad.scenario).toBeUndefined();
    expect(bad.problems[0]).toMatchObject({ path: 'models.deepseek-v4-pro.need.rate', where: 's.yaml:5:19' });
    expect(bad.problems[0]!.message).toContain('300/s');
    const zero = parseScenario(yaml('0'), 's.yaml');
    expect(zero.problems[0]).toMatchObject({ path: 'models.deepseek-v4-pro.need', where: 's.yaml:5:11' });
  });

  it('an override applies to a copy; an unknown model names the nearest one', () => {
    const s = parseScenario(yaml('400'), 's.yaml').scenario!;
    const t = applyNeed(s, 'deepseek-v4-pro', parseNeedText('300/s'));
    expect(t.models[1]!.need).toEqual({ rate_per_s: 300 });
    expect(s.models[1]!.need).toEqual({ inflight: 400 });
    expect(parseNeedText('2000')).toEqual({ inflight: 2000 });
    expect(() => parseNeedText('lots')).toThrow(DsprobeError);
    try {
      applyNeed(s, 'deepseek-v4-prp', { inflight: 1 });
      expect.unreachable();
    } catch (e) {
      expect((e as DsprobeError).exitCode).toBe(2);
      expect((e as DsprobeError).problems[0]!.hint).toContain('deepseek-v4-pro');
    }
  });
});

describe('headroom', () => {
  const { report } = generate(); // Flash cap 2500, Pro cap 480
  const flash = report.models[0]!;
  const pro = report.models[1]!;

  it('fits, tight and does not fit, with cap − need and its share of the cap', () => {
    const f = computeHeadroom(flash.cap, flash.steps, { inflight: 1800 });
    expect(f).toMatchObject({ need: 1800, cap: 2500, headroom: 700, headroom_fraction: 0.28, verdict: 'fits', need_from: 'inflight' });
    // The latency at the need: the lowest measured level at or above it, under the cap.
    expect(f.level).toBeGreaterThanOrEqual(1800);
    expect(f.level).toBeLessThanOrEqual(2500);
    expect(f.ttft_ms!.p99).toBeGreaterThan(0);
    const t = computeHeadroom(pro.cap, pro.steps, { inflight: 450 });
    expect(t).toMatchObject({ headroom: 30, verdict: 'tight' });
    expect(t.headroom_fraction!).toBeLessThan(TIGHT_BELOW);
    const n = computeHeadroom(pro.cap, pro.steps, { inflight: 600 });
    expect(n).toMatchObject({ headroom: -120, verdict: 'does_not_fit' });
    expect(n.reason).toContain('over the cap of 480 by 120');
  });

  it("turns a planned rate into in flight by Little's law at the load that carries it", () => {
    const rate = 100;
    const h = computeHeadroom(flash.cap, flash.steps, { rate_per_s: rate });
    const at = flash.steps.filter((s) => s.target_inflight === h.level);
    const lat = mergeEncoded(at.map((s) => s.histograms.latency));
    const meanS = Math.round(lat.mean) / 1e6;
    expect(h.need).toBe(Math.ceil(rate * meanS));
    expect(h.need_p99).toBe(Math.ceil((rate * Math.round(lat.getValueAtPercentile(99))) / 1e6));
    // The level used carries the rate, and no lower measured level does.
    expect(h.level!).toBeGreaterThanOrEqual(h.need!);
    expect(h.rate_per_s).toBe(rate);
    expect(h.verdict).toBe('fits');
  });

  it('is unknown without a cap, and a lower bound when the cap was not reached', () => {
    const unclear = computeHeadroom({ ...pro.cap, status: 'unclear', estimate: null }, pro.steps, { inflight: 100 });
    expect(unclear.verdict).toBe('unknown');
    const nr = computeHeadroom({ ...pro.cap, status: 'not_reached', estimate: null, low: 400 }, pro.steps.filter((s) => s.rate_limited === 0), { inflight: 100 });
    expect(nr).toMatchObject({ cap: 400, cap_lower_bound: true, verdict: 'fits' });
  });

  it('reads needs from the report scenario in either shape and the threshold judges them', () => {
    expect(needsOf({ models: [{ name: 'a', need: { inflight: 3 } }, { name: 'b', need: { rate_per_s: 2 } }] })).toEqual(new Map([['a', { inflight: 3 }], ['b', { rate_per_s: 2 }]]));
    const r = structuredClone(report);
    (r.scenario as { models: Record<string, unknown> }).models = { 'deepseek-v4-flash': { need: 1800 }, 'deepseek-v4-pro': { need: { rate: '100/s' } } };
    attachHeadroom(r.models, r.scenario);
    expect(r.models[0]!.headroom!.need).toBe(1800);
    expect(r.models[1]!.headroom!.need_from).toBe('rate');
    const res = evaluateThresholds(
      [
        { expression: 'headroom(deepseek-v4-flash) >= 20%', abort_on_fail: false },
        { expression: 'headroom(deepseek-v4-flash) >= 0.3', abort_on_fail: false },
      ],
      r,
    );
    expect(res.map((x) => [x.passed, x.actual_text])).toEqual([[true, '28%'], [false, '28%']]);
    const none = evaluateThresholds([{ expression: 'headroom(deepseek-v4-flash) >= 20%', abort_on_fail: false }], report);
    expect(none[0]).toMatchObject({ passed: false, actual: null });
    expect(none[0]!.note).toContain('models.deepseek-v4-flash.need');
    expect(parseThreshold('headroom(x, inflight < 3) >= 20%').error!.message).toContain('no in-flight scope');
    expect(parseThreshold('headroom >= 20%').error!.message).toContain('needs arguments');
  });
});
