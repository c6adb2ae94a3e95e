/**
 * The HTML renderer without a browser: golden file of the static page (uPlot elided), the data block's
 * escaping round trip, self-containment, and the size budget of a one-hour run.
 */
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { chartData } from '../../src/report/html-data.js';
import { jsonForScript, escapeHtml } from '../../src/report/html-escape.js';
import { chartAssets } from '../../src/report/html-assets.js';
import { generate, longRun } from './fixtures/generate.js';

/** The page with the (large, third-party) uPlot script and CSS replaced by markers, for golden comparison. */
function withoutVendor(html: string): string {
  const a = chartAssets();
  return html.split(a.js).join('/* uPlot.iife.min.js */').split(a.css).join('/* uPlot.min.css */');
}

function dataBlock(html: string): unknown {
  const m = /<script type="application\/json" id="dsprobe-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no data block');
  return JSON.parse(m[1] as string);
}

describe('renderHtml', () => {
  it('matches the golden page for a fixed two-model report', async () => {
    const { report } = generate();
    await expect(withoutVendor(renderHtml(report))).toMatchFileSnapshot('fixtures/golden/report-two-models.html');
  });

  it('inlines uPlot and loads nothing: no src=, href= or url() pointing anywhere', () => {
    const html = renderHtml(generate().report);
    expect(html).toContain(chartAssets().js.slice(0, 200));
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(\s*['"]?(https?:|\/\/)/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).toContain("default-src 'none'");
  });

  it('inlines the chart data as JSON that reads back unchanged', () => {
    const { report } = generate({ hostile: true });
    const html = renderHtml(report);
    expect(dataBlock(html)).toEqual(JSON.parse(JSON.stringify(chartData(report))));
    const tricky = { s: '</script><!-- \u2028\u2029 & <b>' };
    const enc = jsonForScript(tricky);
    expect(enc).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(enc)).toEqual(tricky);
    expect(escapeHtml(`"><img src=x onerror=alert(1)>'`)).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;');
  });

  it("shows dsprobe's own load per level: the busiest thread's share, every figure on hover; '–' where none was recorded", () => {
    const { report } = generate();
    const step = report.models[0]!.steps[0]!;
    step.client = { loop_p99_ms: [3.5, 12], connects: 0, connect_ms: step.ttft_ms, busy: [0.42, 0.917], cpu_cores: 1.31, gc_max_ms: 7.5 };
    const html = renderHtml(report);
    const row = html.slice(html.indexOf('<tbody>'), html.indexOf('</tr>', html.indexOf('<tbody>')));
    expect(row).toContain('>91.7%</td>');
    expect(row).toContain('title="event loop busy: main 42.0%, worker 1 91.7%; CPU 1.31 cores; longest GC pause 7.5ms; loop delay p99 3.5ms / 12.0ms"');
    // Every other level of the fixture has no such figures.
    expect(html.split('<td>–</td></tr>').length - 1).toBeGreaterThan(5);
    expect(html).not.toContain('host steal');
    // The host's CPU steal: on hover under 5 %, a tag on the level from 5 % up.
    step.client.host_steal = 0.04;
    expect(renderHtml(report)).toContain('; loop delay p99 3.5ms / 12.0ms; host CPU steal 4.0%"');
    expect(renderHtml(report)).not.toContain('>host steal ');
    step.client.host_steal = 0.3;
    const stolen = renderHtml(report);
    const first = stolen.slice(stolen.indexOf('<tbody>'), stolen.indexOf('</tr>', stolen.indexOf('<tbody>')));
    expect(first).toContain('>host steal 30.0%</span>');
  });

  it('shows both caps, the bracket, headroom and queueing onset in the headline', () => {
    const html = renderHtml(generate().report);
    expect(html).toContain('2,500 <small>requests in flight</small>');
    expect(html).toContain('480 <small>requests in flight</small>');
    expect(html).toContain('480 clean … 481 drew 429');
    expect(html).toContain('−20 vs documented 500');
    expect(html).toContain('at 450 in flight');
  });

  it('keeps a one-hour run (3,600 steps and timeline points at 1 s per model) under 3 MB', () => {
    const report = longRun(3600);
    expect(report.models[0]?.steps.length).toBe(3600);
    const html = renderHtml(report);
    expect(Buffer.byteLength(html)).toBeLessThan(3 * 1024 * 1024);
    const data = dataBlock(html) as { models: { x: number[]; timeline: { t: number[] }; downsampled: { levels: number } }[] };
    for (const m of data.models) {
      expect(m.downsampled.levels).toBe(3600);
      expect(m.x.length).toBeLessThanOrEqual(120);
      expect(m.timeline.t.length).toBeLessThanOrEqual(1200);
      // Downsampling keeps the whole range.
      expect(m.x[0]).toBeLessThan(20);
      expect(m.timeline.t[m.timeline.t.length - 1]).toBe(3600);
    }
    expect(html).toContain('of 3,600 levels shown');
  });
});
