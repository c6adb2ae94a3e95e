import { describe, expect, it } from 'vitest';
import { nextWarmStep } from '../../src/plan/warm.js';
import type { LevelResult, SearchConfig } from '../../src/plan/search.js';

const cfg: SearchConfig = { start: 50, max: 4000, growth: 2, precision: 1, recheck: false };

/** Runs a search against a perfect server whose cap is `cap`: every level held at once, 429 above the cap. */
function simulate(cap: number, warm?: { estimate: number }): { levels: number[]; status: string; low: number | null } {
  const history: LevelResult[] = [];
  for (let i = 0; i < 100; i++) {
    const d = nextWarmStep(history, cfg, warm);
    if (d.done) return { levels: history.map((h) => h.level), status: d.status, low: d.low };
    const over = d.level > cap;
    history.push({ level: d.level, drew429: over, confirmed: !over, peakAdmitted: over ? cap : d.level, recheck: d.recheck });
  }
  throw new Error('no end');
}

describe('warm start (plan/warm.ts)', () => {
  it('a cap that did not move: the last estimate and one above, nothing else', () => {
    expect(simulate(2500, { estimate: 2500 })).toEqual({ levels: [2500, 2501], status: 'found', low: 2500 });
    expect(simulate(2500).levels.length).toBeGreaterThan(2);
  });

  it('a cap that fell: the 429 on the old estimate leads straight to what the server held', () => {
    const r = simulate(1800, { estimate: 2500 });
    expect(r).toMatchObject({ status: 'found', low: 1800 });
    expect(r.levels).toEqual([2500, 1800, 1801]);
  });

  it('a cap that rose: climbs from one above the old estimate', () => {
    const r = simulate(3000, { estimate: 2500 });
    expect(r).toMatchObject({ status: 'found', low: 3000 });
    expect(r.levels.slice(0, 3)).toEqual([2500, 2501, 4000]); // ×2 from 2501, held to load.max
  });

  it('without a warm start it is the cold search', () => {
    expect(simulate(500).levels[0]).toBe(50);
  });
});
