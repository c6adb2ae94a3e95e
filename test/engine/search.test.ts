import { describe, expect, test } from 'vitest';
import { nextSearchStep, bracket, type LevelResult, type SearchConfig } from '../../src/plan/search.js';

/**
 * Simulates a server with a hard cap: a level over the cap draws a 429 and the server is seen holding `cap`;
 * a level at or under it is held whole. Returns the levels visited and the final decision.
 */
function simulate(cap: number | ((i: number) => number), cfg: SearchConfig, opts: { heldOnOver?: (cap: number) => number } = {}) {
  const history: LevelResult[] = [];
  for (let i = 0; i < 200; i++) {
    const d = nextSearchStep(history, cfg);
    if (d.done) return { history, d };
    const c = typeof cap === 'function' ? cap(i) : cap;
    const over = d.level > c;
    history.push({
      level: d.level,
      drew429: over,
      confirmed: !over,
      peakAdmitted: over ? (opts.heldOnOver ? opts.heldOnOver(c) : c) : d.level,
      recheck: d.recheck,
    });
  }
  throw new Error('search did not end');
}

const base: SearchConfig = { start: 50, max: 4000, growth: 2, precision: 1, recheck: true };

describe('cap search', () => {
  test.each([37, 11, 500, 2500, 1, 3999])('finds an exact cap of %i', (cap) => {
    const { d, history } = simulate(cap, { ...base, start: Math.min(50, cap === 1 ? 1 : 50) });
    expect(d).toMatchObject({ done: true, status: 'found', low: cap, high: cap + 1 });
    // The guess from what the server held makes the search short: climb + guess + one over + two re-checks.
    expect(history.length).toBeLessThanOrEqual(Math.ceil(Math.log2(4000 / 50)) + 6);
  });

  test('finds the cap by bisection when the server holds less than the cap on 429 levels', () => {
    // e.g. requests too short to all be open at once: the held figure is no help.
    const { d } = simulate(1234, base, { heldOnOver: () => 0 });
    expect(d).toMatchObject({ done: true, status: 'found', low: 1234, high: 1235 });
  });

  test('reports not_reached when the max level draws no 429', () => {
    const { d, history } = simulate(10_000, base);
    expect(d).toMatchObject({ done: true, status: 'not_reached', high: null });
    expect(Math.max(...history.map((h) => h.level))).toBe(4000);
  });

  test('a start level over the cap searches downward', () => {
    const { d } = simulate(20, { ...base, start: 100 });
    expect(d).toMatchObject({ status: 'found', low: 20, high: 21 });
  });

  test('honours a coarser precision', () => {
    const { d } = simulate(777, { ...base, precision: 10, recheck: false }, { heldOnOver: () => 0 });
    expect(d.done && d.status).toBe('found');
    if (d.done && d.low !== null && d.high !== null) {
      expect(d.high - d.low).toBeLessThanOrEqual(10);
      expect(d.low).toBeLessThanOrEqual(777);
      expect(d.high).toBeGreaterThan(777);
    }
  });

  test('a cap that moves during the search is noticed', () => {
    // The cap drops from 300 to 250 just before the re-checks (the 7th level).
    const { d } = simulate((i) => (i < 6 ? 300 : 250), base);
    expect(d.done).toBe(true);
    if (d.done) {
      expect(d.moved).toBe(true);
      if (d.status === 'found') expect(d.low).toBe(250);
    }
  });

  test('bracket: later results at a level override earlier ones', () => {
    const h: LevelResult[] = [
      { level: 100, drew429: false, confirmed: true, peakAdmitted: 100 },
      { level: 200, drew429: true, confirmed: false, peakAdmitted: 150 },
      { level: 100, drew429: true, confirmed: false, peakAdmitted: 90, recheck: true },
    ];
    expect(bracket(h)).toEqual({ low: null, high: 100 });
  });

  test('an unconfirmed clean level proves only what the server held', () => {
    expect(bracket([{ level: 400, drew429: false, confirmed: false, peakAdmitted: 310 }])).toEqual({ low: 310, high: null });
  });
});
