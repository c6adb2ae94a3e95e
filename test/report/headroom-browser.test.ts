/**
 * The headroom panel in headless Chromium: both caps, both needs and the verdicts are on the page; the header
 * badge turns red when a threshold failed; chart legends show numbers under the cursor (never `--`); no console
 * error and no request. A screenshot goes to test-results/ for a human look.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { renderHtml } from '../../src/report/html.js';
import { attachHeadroom } from '../../src/report/headroom.js';
import { seriesOf } from '../../src/measure/series.js';
import type { Report } from '../../src/types.js';
import { generate } from './fixtures/generate.js';
import { CHROMIUM, checkPage } from './browser.js';

const OUT = join(process.cwd(), 'test-results');
const haveChromium = existsSync(CHROMIUM);

/** The generated two-model run with needs (Flash 1800 in flight, Pro 100 requests/s) and its per-second series. */
export function planned(thresholdsPass: boolean): Report {
  const { report, samples } = generate();
  const r = structuredClone(report);
  // One key and one user_id: this page is about headroom (per-key charts are tested in breakdown.test.ts).
  for (const m of r.models) for (const st of m.steps) Object.assign(st, { by_key: [], by_user: [] });
  (r.scenario as { models: Record<string, unknown> }).models = { 'deepseek-v4-flash': { weight: 4, need: 1800 }, 'deepseek-v4-pro': { weight: 1, need: { rate: '80/s' } } };
  attachHeadroom(r.models, r.scenario);
  r.series = seriesOf(samples, r.models.map((m) => m.model));
  if (thresholdsPass) r.thresholds = r.thresholds.map((t) => ({ ...t, passed: true }));
  return r;
}

/** Hovers the middle of every chart and returns the legend values shown, per chart. */
async function hoverLegends(file: string): Promise<{ values: string[][]; consoleErrors: string[]; requests: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'dsprobe-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, viewport: { width: 1366, height: 900 }, args: ['--no-sandbox', '--disable-gpu'] });
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('request', (q) => !/^(file|data):/.test(q.url()) && requests.push(q.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const n = await page.locator('[data-dsprobe-chart] .u-over').count();
    const values: string[][] = [];
    for (let i = 0; i < n; i++) {
      const over = page.locator('[data-dsprobe-chart] .u-over').nth(i);
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      // A few places across the chart: the first where the cursor sits on data (a level or a second with
      // requests) is kept; every place is checked for uPlot's `--` placeholder.
      let best: string[] = [];
      for (const f of [0.5, 0.3, 0.7, 0.15, 0.9]) {
        await page.mouse.move(box.x + box.width * f, box.y + box.height / 2);
        const v = await page.locator('[data-dsprobe-chart]').nth(i).locator('.u-legend .u-value').allInnerTexts();
        if (v.join(' ').includes('--')) {
          best = v;
          break;
        }
        if (v.filter((t) => /\d/.test(t)).length > best.filter((t) => /\d/.test(t)).length) best = v;
      }
      values.push(best);
    }
    return { values, consoleErrors, requests };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveChromium)('headroom panel in headless Chromium', () => {
  it('shows both caps, both needs and the verdicts; a failed threshold makes the badge red', async () => {
    mkdirSync(OUT, { recursive: true });
    const r = planned(false);
    const file = join(OUT, 'report-headroom.html');
    writeFileSync(file, renderHtml(r));
    const res = await checkPage(file, join(OUT, 'report-headroom.png'));
    expect([res.consoleErrors, res.pageErrors, res.requests]).toEqual([[], [], []]);
    for (const c of res.charts) expect(c).toEqual({ canvas: true, nonBlank: true });
    const flash = r.models[0]!.headroom!;
    const pro = r.models[1]!.headroom!;
    expect(flash).toMatchObject({ cap: 2500, need: 1800, verdict: 'fits' });
    expect(pro.cap).toBe(480);
    const text = res.bodyText;
    // The panel: each card shows its cap, need and verdict in words.
    expect(text).toMatch(/deepseek-v4-flash vs deepseek-v4-pro: headroom/);
    expect(text).toMatch(/cap\s+2,500\s+need\s+1,800/);
    expect(text).toMatch(new RegExp(`cap\\s+480\\s+need\\s+${pro.need!.toLocaleString('en-US')}`));
    expect(text).toContain('deepseek-v4-flash: fits (+28% headroom)');
    expect(text).toContain(`Fits: need 1,800 in flight leaves 700 (28%) of the cap of 2,500.`);
    expect(text).toContain('80 requests/s');
    // The verdict box and the badge: two thresholds failed.
    expect(text).toContain('Failed: 2 of 3 thresholds failed.');
    const html = renderHtml(r);
    expect(html).toMatch(/<span class="badge b-bad" id="run-badge"[^>]*>failed<\/span>/);
    expect(renderHtml(planned(true))).toMatch(/<span class="badge b-ok" id="run-badge"[^>]*>passed<\/span>/);
    const bound = planned(true);
    (bound.models[0]!.steps[2] as unknown as { client_bound: boolean }).client_bound = true;
    expect(renderHtml(bound)).toMatch(/<span class="badge b-warn" id="run-badge"[^>]*>client-bound<\/span>/);
  }, 180_000);

  it('legends show numbers on hover, never --', async () => {
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, 'report-headroom-hover.html');
    writeFileSync(file, renderHtml(planned(false)));
    const { values, consoleErrors, requests } = await hoverLegends(file);
    expect([consoleErrors, requests]).toEqual([[], []]);
    expect(values.length).toBeGreaterThanOrEqual(10);
    for (const v of values) {
      expect(v.join(' ')).not.toContain('--');
      // The x value and at least one series value under the cursor are numbers.
      expect(v.filter((t) => /\d/.test(t)).length, JSON.stringify(values)).toBeGreaterThanOrEqual(2);
    }
  }, 180_000);
});
