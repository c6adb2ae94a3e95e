import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseScenario, type Scenario } from '../../src/scenario/index.js';
import { rampLevels, rampSteps, splitByWeight } from '../../src/plan/ramp.js';

function scenario(yaml: string): Scenario {
  const r = parseScenario(yaml, 'r.yaml');
  expect(r.problems).toEqual([]);
  return r.scenario!;
}

const table = (s: Scenario) => rampSteps(s).map((step) => step.map((t) => `${t.model}=${t.inflight}/${t.hold_ms}`).join(' '));

describe('splitByWeight', () => {
  it.each([
    [10, [1, 1], [5, 5]],
    [10, [4, 1], [8, 2]],
    [7, [1, 1], [4, 3]],
    [5, [1, 1, 1], [2, 2, 1]],
    [100, [3, 1], [75, 25]],
    [1, [4, 1], [1, 0]],
    [11, [0.5, 0.25, 0.25], [5, 3, 3]],
  ])('%d split %j = %j (sums to the total)', (total, weights, expected) => {
    const models = weights.map((weight, i) => ({ name: `m${i}`, weight }));
    const got = [...splitByWeight(total, models).values()];
    expect(got).toEqual(expected);
    expect(got.reduce((a, b) => a + b, 0)).toBe(total);
  });
});

describe('rampLevels', () => {
  it.each([
    [{ start: 10, step: 10, max: 40 }, [10, 20, 30, 40]],
    [{ start: 10, step: 15, max: 40 }, [10, 25, 40]],
    [{ start: 10, step: 20, max: 45 }, [10, 30, 45]],
    [{ start: 50, step: 50, max: 50 }, [50]],
  ])('%j', (l, levels) => {
    const s = { load: { mode: 'ramp' as const, hold_ms: 1000, precision: 1, growth: 2, recheck: true, ...l } };
    expect(rampLevels(s).map((x) => x.level)).toEqual(levels);
  });
});

describe('rampSteps', () => {
  it('splits each total level by weight', () => {
    const s = scenario('target: { url: mock }\nmodels: { a: { weight: 3 }, b: { weight: 1 } }\nload: { mode: ramp, start: 20, step: 20, max: 60, hold: 2s }\n');
    expect(table(s)).toEqual(['a=15/2000 b=5/2000', 'a=30/2000 b=10/2000', 'a=45/2000 b=15/2000']);
  });

  it('uses stages and their own holds', () => {
    const s = scenario('target: { url: mock }\nmodels: { a: {} }\nload: { hold: 1s, stages: [{ inflight: 5 }, { inflight: 50, hold: 250ms }, { inflight: 10 }] }\n');
    expect(table(s)).toEqual(['a=5/1000', 'a=50/250', 'a=10/1000']);
  });

  it('a per-model inflight is fixed at every step, outside the split', () => {
    const s = scenario('target: { url: mock }\nmodels: { a: { weight: 1 }, b: { inflight: 7 }, c: { weight: 1 } }\nload: { mode: ramp, start: 10, step: 10, max: 20, hold: 1s }\n');
    expect(table(s)).toEqual(['a=5/1000 b=7/1000 c=5/1000', 'a=10/1000 b=7/1000 c=10/1000']);
  });

  it('a per-model max caps its share; every model keeps at least 1', () => {
    const s = scenario('target: { url: mock }\nmodels: { a: { weight: 1, max: 12 }, b: { weight: 9 } }\nload: { mode: ramp, start: 5, step: 100, max: 205, hold: 1s }\n');
    expect(table(s)).toEqual(['a=1/1000 b=4/1000', 'a=11/1000 b=94/1000', 'a=12/1000 b=184/1000']);
  });

  it('the ramp example reaches both mock caps exactly at one step', () => {
    const s = scenario(readFileSync('scenarios/ramp.yaml', 'utf8'));
    const steps = rampSteps(s);
    expect(steps.some((st) => st[0]!.inflight === 60 && st[1]!.inflight === 20)).toBe(true);
  });

  it('search mode: only the first step, each model at its start (or its own inflight), capped by its max', () => {
    const s = scenario('target: { url: mock }\nmodels: { a: {}, b: { inflight: 3 }, c: { inflight: 9, max: 9 } }\nload: { start: 20, max: 100, hold: 4s }\n');
    expect(table(s)).toEqual(['a=20/4000 b=3/4000 c=9/4000']);
  });
});
