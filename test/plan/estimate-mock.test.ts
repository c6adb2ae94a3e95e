/** `dsprobe plan` with the mock as the target uses the mock's caps and latency (issue 14). */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseScenario } from '../../src/scenario/index.js';
import { estimatePlan, mockSearchLevels, roundPlan } from '../../src/plan/estimate.js';

const quick = () => parseScenario(readFileSync('scenarios/quickstart.yaml', 'utf8'), 'quickstart.yaml').scenario!;

describe('plan on the mock', () => {
  it('the search path on a known cap: climb past it, then the cap and one above, then the re-checks', () => {
    expect(mockSearchLevels(100, 4000, 2, true, 500).map((l) => `${l.phase}:${l.level}`)).toEqual([
      'climb:100', 'climb:200', 'climb:400', 'climb:800', 'guess:500', 'guess:501', 'recheck:500', 'recheck:501',
    ]);
    // A max under the cap: the climb only, nothing found.
    expect(mockSearchLevels(10, 40, 2, true, 500).map((l) => l.level)).toEqual([10, 20, 40]);
  });

  it('uses the mock caps, its latency and its answer length; over the cap only the cap is admitted', () => {
    const s = quick();
    const p = estimatePlan(s);
    expect(p.mock_caps).toEqual({ 'deepseek-v4-flash': 2500, 'deepseek-v4-pro': 500 });
    // 300 answer tokens × 20 ms plus prefill: about 6 s, not the 4.5 s the fast-server default assumes for 400 tokens.
    expect(p.latency_ms).toBeGreaterThan(6000);
    expect(p.latency_ms).toBeLessThan(6500);
    const flash = p.per_model.find((m) => m.model === 'deepseek-v4-flash')!;
    expect(flash.max_inflight).toBe(3200);
    const at3200 = p.steps.flatMap((st) => st.models).find((m) => m.model === 'deepseek-v4-flash' && m.inflight === 3200)!;
    expect(at3200.requests).toBe(2500 * 2); // hold 8 s, ~6.2 s a request: 2 rounds of the 2,500 admitted
    expect(at3200.tokens).toBe(at3200.requests * (200 + 300));
    expect(p.assumptions.join('\n')).toMatch(/search on the mock: its caps are known/);
  });

  it('a real target keeps the worst case, and --json figures are rounded', () => {
    const s = quick();
    s.target.url = 'https://api.deepseek.com';
    const p = estimatePlan(s);
    expect(p.mock_caps).toBeUndefined();
    expect(p.latency_ms).toBe(500 + 10 * 400);
    const r = roundPlan(p);
    expect(r.schema).toBe('dsprobe.plan/v1');
    for (const st of r.steps) for (const m of st.models) expect(Math.round(m.usd * 10_000)).toBeCloseTo(m.usd * 10_000, 9);
  });
});
