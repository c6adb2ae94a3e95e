import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { renderText } from '../../src/report/text.js';
import { tmpDir } from '../helpers/cli.js';
import { checkPage, CHROMIUM } from '../report/browser.js';
import { clockServer, rehearse, scenario } from './fake.js';

describe('rate mode in the reports', () => {
  test('HTML: every policy side by side, the recommendation, and charts over time that draw in a real browser', async () => {
    const s = scenario(
      'load: { mode: rate, arrival: poisson, rate: 300/s, duration: 1s, drain: 200ms }\n' +
        'policies:\n  none: {}\n  pool: { pool: 4, queue_timeout: 100ms }\n  backoff: { retry: { backoff: { base: 5ms, max: 50ms } } }\n',
    );
    const { report } = await rehearse(s, (clock) => clockServer({ cap: 5, durationUs: 15_000, clock }));
    const html = renderHtml(report);
    expect(html).toMatch(/<strong>pool<\/strong>/);
    expect(html).toMatch(/Client policies at this traffic/);
    expect(html).toMatch(/id="rh-recommendation"/);
    const text = renderText(report);
    expect(text).toMatch(/recommended: /);
    expect(text).toMatch(/^none\s+/m);
    if (!fs.existsSync(CHROMIUM)) return;
    const file = path.join(tmpDir(), 'report.html');
    fs.writeFileSync(file, html);
    const page = await checkPage(file);
    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.requests).toEqual([]);
    // The three rehearsal charts drew (besides the run's own).
    expect(page.charts.filter((c) => c.nonBlank).length).toBeGreaterThanOrEqual(3);
    expect(page.bodyText).toMatch(/Goodput over time/);
  }, 60_000);
});
