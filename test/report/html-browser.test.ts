/**
 * The HTML report in a real headless Chromium: no console error, no network request, every chart drew,
 * and server text stays inert. Screenshots go to test-results/ for a human look.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { compareReports, renderCompareHtml } from '../../src/report/compare.js';
import { mergeReports } from '../../src/report/merge.js';
import { DEFAULT_MODELS, generate, longRun } from './fixtures/generate.js';
import { CHROMIUM, checkPage } from './browser.js';

const OUT = join(process.cwd(), 'test-results');
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)('HTML report in headless Chromium', () => {
  it('opens offline, draws every chart, logs no error and makes no request', async () => {
    mkdirSync(OUT, { recursive: true });
    const { report } = generate();
    const file = join(OUT, 'report-two-models.html');
    writeFileSync(file, renderHtml(report));
    const res = await checkPage(file, join(OUT, 'report-two-models.png'));
    expect(res.consoleErrors).toEqual([]);
    expect(res.pageErrors).toEqual([]);
    expect(res.requests).toEqual([]);
    // Headline + per model (TTFT, E2E, keep-alive, timeline, distribution).
    expect(res.charts.length).toBeGreaterThanOrEqual(1 + 5 * report.models.length);
    for (const c of res.charts) expect(c).toEqual({ canvas: true, nonBlank: true });
    expect(res.bodyText).toContain('deepseek-v4-flash');
    expect(res.bodyText).toContain('2,500');
    expect(res.bodyText).toContain('480');
  });
});

describe.skipIf(!haveChromium)('HTML report escaping', () => {
  it('renders <script> and "><img onerror> in model names, messages and scenario as inert text', async () => {
    mkdirSync(OUT, { recursive: true });
    const { report } = generate({ hostile: true });
    const html = renderHtml(report);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    const file = join(OUT, 'report-hostile.html');
    writeFileSync(file, html);
    const res = await checkPage(file, join(OUT, 'report-hostile.png'));
    expect(res.dialogs).toEqual([]);
    expect(res.pageErrors).toEqual([]);
    expect(res.consoleErrors).toEqual([]);
    expect(res.requests).toEqual([]);
    expect(res.imgCount).toBe(0);
    // The data block, uPlot and dsprobe's own script: nothing else.
    expect(res.scriptCount).toBe(3);
    // The payloads are visible as text (escaped, not dropped), in tables and in chart legends.
    expect(res.bodyText).toContain('<script>alert(1)</script>');
    expect(res.bodyText).toContain('"><img src=x onerror=alert(1)>');
    expect(res.title).toContain('<script>alert(1)</script>');
    for (const c of res.charts) expect(c).toEqual({ canvas: true, nonBlank: true });
  });
});

describe.skipIf(!haveChromium)('other pages in headless Chromium', () => {
  it('the compare page and a merged report draw their charts with no error or request', async () => {
    mkdirSync(OUT, { recursive: true });
    const a = generate().report;
    const b = generate({ models: [{ ...DEFAULT_MODELS[0]!, cap: 2400, pool: 800 }, DEFAULT_MODELS[1]!] }).report;
    const cmp = join(OUT, 'compare.html');
    writeFileSync(cmp, renderCompareHtml(compareReports([{ label: 'last-week', report: a }, { label: 'today', report: b }])));
    const c = await checkPage(cmp, join(OUT, 'compare.png'));
    expect([c.consoleErrors, c.pageErrors, c.requests]).toEqual([[], [], []]);
    expect(c.charts.length).toBe(4);
    for (const x of c.charts) expect(x).toEqual({ canvas: true, nonBlank: true });
    expect(c.bodyText).toContain('cap fell from 2500 to 2400');

    const merged = join(OUT, 'report-merged.html');
    writeFileSync(merged, renderHtml(mergeReports(generate({ shards: 2 }).shards)));
    const m = await checkPage(merged, join(OUT, 'report-merged.png'));
    expect([m.consoleErrors, m.pageErrors, m.requests]).toEqual([[], [], []]);
    for (const x of m.charts) expect(x).toEqual({ canvas: true, nonBlank: true });
    expect(m.bodyText).toContain('2 shards merged');
  });

  it('a one-hour run renders downsampled charts on a narrow screen', async () => {
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, 'report-one-hour.html');
    writeFileSync(file, renderHtml(longRun(3600)));
    const res = await checkPage(file, join(OUT, 'report-one-hour-narrow.png'), { width: 420, height: 900 });
    expect([res.consoleErrors, res.pageErrors, res.requests]).toEqual([[], [], []]);
    // Headroom panel (2), 429 chart, per model 5 and a per-key chart (the fixture sends with two keys; no
    // per-second series in this report).
    expect(res.charts.length).toBe(15);
    for (const x of res.charts) expect(x).toEqual({ canvas: true, nonBlank: true });
  });
});
