/**
 * The HTML report in a real headless Chromium: no console error, no network request, every chart drew,
 * and server text stays inert. Screenshots go to test-results/ for a human look.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { generate } from './fixtures/generate.js';
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
