/**
 * Issue acceptance: the HTML report of a real quickstart run (the real CLI, runner and mock, on loopback),
 * opened in Chromium, shows both caps and every chart, with no console error and no network request.
 * Needs the build (`npm test` runs `tsc` first) and Debian's chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { CHROMIUM, checkPage } from './browser.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

describe.skipIf(!ready)('quickstart report in Chromium', () => {
  it('shows both caps and every chart, with no console error and no request', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dsprobe-qs-')), 'run');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dsprobe.js'), 'run', join(ROOT, 'scenarios', 'quickstart.yaml'), '--out', out, '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.stderr + r.stdout).toContain('report.html');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    const shots = join(ROOT, 'test-results');
    mkdirSync(shots, { recursive: true });
    const res = await checkPage(join(out, 'report.html'), join(shots, 'report-quickstart.png'));
    expect(res.consoleErrors).toEqual([]);
    expect(res.pageErrors).toEqual([]);
    expect(res.requests).toEqual([]);
    // The headroom panel (two charts, when some model has a cap to scale by), the 429 chart, then per model TTFT,
    // the timeline, TTFT over time and errors over time; E2E, E2E over time and the distribution when requests
    // completed; keep-alive wait when there was queueing (otherwise a card says there is no data instead of
    // drawing an empty chart).
    const queued = report.models.filter((m) => m.steps.some((s) => s.keepalive_wait_ms.count > 0)).length;
    const completed = report.models.filter((m) => m.steps.some((s) => s.latency_ms.count > 0)).length;
    const scaled = report.models.some((m) => m.cap.estimate !== null || (m.cap.status === 'not_reached' && m.cap.low !== null)) ? 2 : 0;
    expect(res.charts.length).toBe(scaled + 1 + 4 * report.models.length + 3 * completed + queued);
    for (const c of res.charts) expect(c).toEqual({ canvas: true, nonBlank: true });
    // Whatever the run concluded (finding the exact caps is the runner's own test; on a loaded machine a search
    // can end unclear), the page must show each model's cap as report.json has it.
    for (const m of report.models) {
      expect(res.bodyText).toContain(m.model);
      if (m.cap.estimate !== null) expect(res.bodyText).toMatch(new RegExp(`${m.cap.estimate.toLocaleString('en-US')}\\s+requests in flight`));
      else expect(res.bodyText).toContain(m.cap.status === 'not_reached' ? 'not reached' : 'unclear');
    }
  }, 300_000);
});
