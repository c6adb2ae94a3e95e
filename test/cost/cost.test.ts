import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { costOf, usdOf, formatUsd, DEFAULT_PRICING, mergePricing } from '../../src/cost/index.js';
import { estimatePlan, worstSearchLevels, assumedLatencyMs } from '../../src/plan/estimate.js';
import { renderPlanText } from '../../src/plan/plan-text.js';
import { parseScenario, type Scenario } from '../../src/scenario/index.js';

const t = (prompt: number, completion: number, cache_hit = 0, cache_miss = 0) => ({ prompt, completion, cache_hit, cache_miss, reasoning: 0 });

function scenario(yaml: string): Scenario {
  const r = parseScenario(yaml, 'c.yaml');
  expect(r.problems).toEqual([]);
  return r.scenario!;
}

describe('pricing and costOf', () => {
  it('has DeepSeek\'s published prices', () => {
    expect(DEFAULT_PRICING['deepseek-v4-flash']).toEqual({ input_cache_hit: 0.028, input_cache_miss: 0.14, output: 0.28 });
    expect(DEFAULT_PRICING['deepseek-v4-pro']).toEqual({ input_cache_hit: 0.145, input_cache_miss: 1.74, output: 3.48 });
  });

  it('overrides merge field by field', () => {
    const p = mergePricing({ 'deepseek-v4-pro': { output: 1 }, x: { input_cache_hit: 1, input_cache_miss: 2, output: 3 } });
    expect(p['deepseek-v4-pro']).toEqual({ input_cache_hit: 0.145, input_cache_miss: 1.74, output: 1 });
    expect(p.x).toEqual({ input_cache_hit: 1, input_cache_miss: 2, output: 3 });
    expect(DEFAULT_PRICING['deepseek-v4-pro']!.output).toBe(3.48); // defaults untouched
  });

  it.each([
    // 1M prompt tokens all missed + 1M output on flash = 0.14 + 0.28
    ['flash, no cache split', 'deepseek-v4-flash', t(1_000_000, 1_000_000), 0.42],
    // 600k hits, 400k misses, 0 output on pro = 0.6*0.145 + 0.4*1.74
    ['pro, with cache split', 'deepseek-v4-pro', t(1_000_000, 0, 600_000, 400_000), 0.087 + 0.696],
    // partial split: 1000 prompt, 200 hit reported, miss not reported -> 800 missed
    ['flash, hits only', 'deepseek-v4-flash', t(1000, 500, 200, 0), (200 * 0.028 + 800 * 0.14 + 500 * 0.28) / 1e6],
    ['nothing used', 'deepseek-v4-pro', t(0, 0), 0],
  ])('%s', (_n, model, tokens, usd) => {
    expect(usdOf(tokens, DEFAULT_PRICING[model]!)).toBeCloseTo(usd, 12);
    const c = costOf({ [model]: tokens }, DEFAULT_PRICING);
    expect(c.usd).toBeCloseTo(usd, 12);
    expect(c.models[model]).toBeCloseTo(usd, 12);
    expect(c.unpriced).toEqual([]);
  });

  it('sums models and names the ones without a price', () => {
    const c = costOf({ 'deepseek-v4-flash': t(1_000_000, 0), 'deepseek-v4-pro': t(0, 1_000_000), mystery: t(10, 10), idle: t(0, 0) }, DEFAULT_PRICING);
    expect(c.usd).toBeCloseTo(0.14 + 3.48, 12);
    expect(c.unpriced).toEqual(['mystery']);
    expect(c.models.mystery).toBe(0);
  });

  it.each([
    [0, '$0'],
    [0.0042, '$0.0042'],
    [1.234, '$1.23'],
    [1234.5, '$1,234.50'],
  ])('formatUsd(%d) = %s', (v, s) => {
    expect(formatUsd(v)).toBe(s);
  });
});

describe('worstSearchLevels', () => {
  it('climbs geometrically to the max, bisects to the precision, re-checks both sides', () => {
    const levels = worstSearchLevels(100, 1000, 2, 1, true);
    expect(levels.filter((l) => l.phase === 'climb').map((l) => l.level)).toEqual([100, 200, 400, 800, 1000]);
    const bisect = levels.filter((l) => l.phase === 'bisect').map((l) => l.level);
    expect(bisect[0]).toBe(900);
    expect(bisect[bisect.length - 1]).toBe(999);
    expect(bisect.length).toBe(Math.ceil(Math.log2(200))); // 8 halvings of a 200-wide bracket
    expect(levels.filter((l) => l.phase === 'recheck').map((l) => l.level)).toEqual([999, 1000]);
    expect(levels.filter((l) => l.phase === 'guess').map((l) => l.level)).toEqual([1000, 1000]);
    expect(levels.map((l) => l.phase)).toEqual([...Array(5).fill('climb'), 'guess', 'guess', ...Array(8).fill('bisect'), 'recheck', 'recheck']);
  });
  it('coarser precision, no re-check, growth 4', () => {
    const levels = worstSearchLevels(10, 100, 4, 10, false);
    expect(levels.map((l) => `${l.phase}:${l.level}`)).toEqual(['climb:10', 'climb:40', 'climb:100', 'guess:100', 'guess:100', 'bisect:70', 'bisect:85', 'bisect:92']);
  });
  it('start at the max: one level', () => {
    expect(worstSearchLevels(50, 50, 2, 1, true)).toEqual([{ level: 50, phase: 'climb' }]);
  });
});

describe('estimatePlan', () => {
  it('ramp arithmetic: requests = in-flight × ceil(hold / latency), tokens and dollars per request', () => {
    const s = scenario(`target: { url: "https://api.deepseek.com" }
models: { deepseek-v4-flash: { weight: 1 }, deepseek-v4-pro: { weight: 1 } }
request: { prompt_tokens: 1000, max_tokens: 100 }
load: { mode: ramp, start: 10, step: 10, max: 20, hold: 4s }
`);
    expect(assumedLatencyMs(100)).toBe(1500);
    const p = estimatePlan(s);
    // latency 1.5 s, hold 4 s -> 3 rounds per slot. Step 1: 5 + 5 in flight; step 2: 10 + 10.
    expect(p.steps.map((st) => st.models.map((m) => m.requests))).toEqual([[15, 15], [30, 30]]);
    expect(p.worst_case.requests).toBe(90);
    expect(p.worst_case.tokens).toBe(90 * 1100);
    const flashEach = (1000 * 0.14 + 100 * 0.28) / 1e6;
    const proEach = (1000 * 1.74 + 100 * 3.48) / 1e6;
    expect(p.worst_case.usd).toBeCloseTo(45 * flashEach + 45 * proEach, 12);
    expect(p.worst_case.duration_ms).toBe(8000);
    expect(p.per_model.map((m) => [m.model, m.levels, m.max_inflight])).toEqual([['deepseek-v4-flash', 2, 10], ['deepseek-v4-pro', 2, 10]]);
    expect(p.assumptions.join('\n')).toMatch(/1000 prompt tokens .* max_tokens of 100/);
  });

  it('a latency override changes the request count; short holds still cost one round', () => {
    const s = scenario('target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\nload: { mode: ramp, start: 10, max: 10, hold: 1s }\n');
    expect(estimatePlan(s).worst_case.requests).toBe(10); // latency 1.14 s > hold: one round
    expect(estimatePlan(s, { latency_ms: 250 }).worst_case.requests).toBe(40);
  });

  it('search: per model levels, models side by side, safety margin against real targets', () => {
    const s = scenario(`target: { url: "https://api.deepseek.com" }
models: { deepseek-v4-flash: {}, deepseek-v4-pro: { max: 800 } }
request: { prompt_tokens: 100, max_tokens: 100 }
load: { start: 100, max: 4000, hold: 2s, precision: 50, recheck: false }
safety_margin: 0.2
budget: { max_usd: 1 }
`);
    const p = estimatePlan(s);
    const flash = p.per_model.find((m) => m.model === 'deepseek-v4-flash')!;
    const pro = p.per_model.find((m) => m.model === 'deepseek-v4-pro')!;
    expect(flash.max_inflight).toBe(2000); // 2500 × 0.8
    expect(pro.max_inflight).toBe(400); // min(800, 500 × 0.8)
    expect(p.steps[0]!.models.map((m) => m.inflight)).toEqual([100, 100]);
    expect(p.worst_case.duration_ms).toBe(Math.max(flash.levels, pro.levels) * 2000);
    expect(p.worst_case.requests).toBe(flash.requests + pro.requests);
    expect(p.budget).toEqual({ max_usd: 1, limits_spend: true });
    expect(p.assumptions.join('\n')).toMatch(/safety_margin 0\.2/);
  });

  it('warns about models without a price and counts them as $0', () => {
    const s = scenario('target: { url: "http://127.0.0.1:1" }\nmodels: { local-model: {} }\nload: { mode: ramp, start: 1, max: 1, hold: 1s }\n');
    const p = estimatePlan(s);
    expect(p.worst_case.usd).toBe(0);
    expect(p.warnings).toEqual(['no price for local-model: its dollars count as 0 (add it under pricing:)']);
  });

  it('renders the plan as text with the worst case and the assumptions', () => {
    const s = scenario(readFileSync('scenarios/real-api-check.yaml', 'utf8'));
    const p = estimatePlan(s);
    const text = renderPlanText(s, p);
    expect(text).toMatch(/^plan: real-api-check \(search, target https:\/\/api\.deepseek\.com\)\n/);
    expect(text).toMatch(/\nworst case: [\d,]+ requests, [\d,]+ tokens, \$[\d,.]+, \dm\d+s\n/);
    expect(text).toContain('budget: $2.00, 3,000,000 tokens (the run stops there if it gets that far)');
    expect(text).toContain('assumptions:\n  - each admitted request uses 64 prompt tokens');
    expect(p.worst_case.usd).toBeGreaterThan(1);
  });

  it('abbreviates long step tables', () => {
    const s = scenario('target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\nload: { mode: ramp, start: 1, step: 1, max: 100, hold: 1s }\n');
    const text = renderPlanText(s, estimatePlan(s));
    expect(text.split('\n').filter((l) => /^\d+\s/.test(l))).toHaveLength(40);
    expect(text).toMatch(/\n\.\.\.\s*\n/);
  });
});
