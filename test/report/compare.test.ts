/**
 * compare: caps, matching levels, deltas and regressions (a cap that fell, a p99 beyond noise), runs and
 * models modes, golden terminal text and HTML.
 */
import { describe, expect, it } from 'vitest';
import { compareReports, p99RoseBeyondNoise, renderCompareHtml, renderCompareText } from '../../src/report/compare.js';
import { chartAssets } from '../../src/report/html-assets.js';
import { DsprobeError } from '../../src/errors.js';
import { DEFAULT_MODELS, generate } from './fixtures/generate.js';

const base = generate().report;
// The same account a week later: Flash's cap fell to 2400 and its running pool shrank (slower under load).
const worse = generate({
  models: [{ ...DEFAULT_MODELS[0]!, cap: 2400, pool: 800 }, DEFAULT_MODELS[1]!],
}).report;

function withoutVendor(html: string): string {
  const a = chartAssets();
  return html.split(a.js).join('/* uPlot */').split(a.css).join('/* uPlot css */');
}

describe('compareReports', () => {
  it('flags a cap that fell and p99s that rose beyond noise, and nothing for the unchanged model', () => {
    const c = compareReports([
      { label: 'last-week', report: base },
      { label: 'today', report: worse },
    ]);
    expect(c.mode).toBe('runs');
    const flash = c.groups.find((g) => g.title === 'deepseek-v4-flash')!;
    expect(flash.caps.map((k) => [k.label, k.estimate, k.delta])).toEqual([
      ['last-week', 2500, null],
      ['today', 2400, -100],
    ]);
    expect(c.regressions.filter((r) => r.kind === 'cap_fell')).toEqual([
      expect.objectContaining({ group: 'deepseek-v4-flash', label: 'today', baseline: 2500, value: 2400 }),
    ]);
    expect(c.regressions.some((r) => r.kind === 'p99_rose' && r.group === 'deepseek-v4-flash')).toBe(true);
    // Pro ran identically (same seed, same cap): no regression at all.
    expect(c.regressions.filter((r) => r.group === 'deepseek-v4-pro')).toEqual([]);
    // Levels compared are the ones both runs held.
    for (const l of flash.levels) expect(l.cells[1]).not.toBeNull();
    expect(flash.levels.map((l) => l.inflight)).toContain(1600);
  });

  it("does not judge latency against a run whose host took 10 % or more of the machine's CPU time (steal); caps still", () => {
    /** `r` with the host's steal set on every step of its first model. */
    const stolen = (r: typeof worse, share: number): typeof worse => ({
      ...r,
      models: r.models.map((m, i) => (i ? m : { ...m, steps: m.steps.map((st) => ({ ...st, client: { loop_p99_ms: [1], connects: 0, connect_ms: st.latency_ms, host_steal: share } })) })),
    });
    const c = compareReports([{ label: 'last-week', report: base }, { label: 'today', report: stolen(worse, 0.3) }]);
    expect(c.regressions.filter((r) => r.kind === 'p99_rose')).toEqual([]);
    expect(c.regressions.some((r) => r.kind === 'cap_fell')).toBe(true);
    expect(c.warnings).toContain("Latency is not judged against today (the host took up to 30 % of the machine's CPU time): a shared or overcommitted host stalled the machine (CPU steal), dsprobe and anything serving on it alike. Caps and 429 rates still are.");
    // Under the share it is judged as before.
    const calm = compareReports([{ label: 'last-week', report: base }, { label: 'today', report: stolen(worse, 0.09) }]);
    expect(calm.regressions.some((r) => r.kind === 'p99_rose')).toBe(true);
    expect(calm.warnings.join(' ')).not.toMatch(/steal/);
  });

  it('finds no regression comparing a run with itself', () => {
    const c = compareReports([{ label: 'a', report: base }, { label: 'b', report: base }]);
    expect(c.regressions).toEqual([]);
    expect(renderCompareText(c)).toContain('No regression beyond noise.');
  });

  it('compares the models of one report side by side, without judging regressions', () => {
    const c = compareReports([{ label: 'run', report: base }]);
    expect(c.mode).toBe('models');
    expect(c.labels).toEqual(['deepseek-v4-flash', 'deepseek-v4-pro']);
    // Each model's own range, up to and past its own cap: Flash to 3,200 though Pro stopped at 800.
    const levels = c.groups[0]!.levels.map((l) => l.inflight);
    const flashLevels = [...new Set(base.models[0]!.steps.map((s) => s.target_inflight))];
    const proLevels = [...new Set(base.models[1]!.steps.map((s) => s.target_inflight))];
    expect(levels).toEqual([...new Set([...flashLevels, ...proLevels])].sort((a, b) => a - b));
    expect(Math.max(...levels)).toBeGreaterThan(2500);
    // A level only one model held has a cell for that model alone.
    const at2500 = c.groups[0]!.levels.find((l) => l.inflight === 2500)!;
    expect(at2500.cells.map((x) => x !== null)).toEqual([true, false]);
    expect(c.regressions).toEqual([]);
  });

  it('refuses one report with one model', () => {
    const one = { ...base, models: base.models.slice(0, 1) };
    expect(() => compareReports([{ label: 'one.json', report: one }])).toThrow(DsprobeError);
  });

  it('defines noise: >10 % and beyond HDR precision, with enough samples', () => {
    expect(p99RoseBeyondNoise(1000, 1099, 100, 100)).toBe(false);
    expect(p99RoseBeyondNoise(1000, 1101, 100, 100)).toBe(true);
    expect(p99RoseBeyondNoise(1000, 2000, 10, 100)).toBe(false);
    expect(p99RoseBeyondNoise(5, 5.9, 100, 100)).toBe(false); // under 1 ms
  });

  it('renders golden terminal text and HTML', async () => {
    const c = compareReports([{ label: 'last-week', report: base }, { label: 'today', report: worse }]);
    const text = renderCompareText(c);
    expect(text).toContain('REGRESSIONS');
    await expect(text).toMatchFileSnapshot('fixtures/golden/compare-runs.txt');
    await expect(renderCompareText(compareReports([{ label: 'run', report: base }]))).toMatchFileSnapshot('fixtures/golden/compare-models.txt');
    await expect(withoutVendor(renderCompareHtml(c))).toMatchFileSnapshot('fixtures/golden/compare-runs.html');
  });

  it('escapes labels and model names in the HTML page', () => {
    const hostile = generate({ hostile: true }).report;
    const html = renderCompareHtml(compareReports([{ label: '<b>x</b>', report: hostile }, { label: 'y', report: hostile }]));
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>x</b>');
  });
});
