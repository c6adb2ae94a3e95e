/**
 * The shipped CI check (scenarios/ci-check.yaml) must fail when nothing succeeded and pass on a healthy mock. The
 * shipped file probes caps of 2500 and 500; here it runs scaled down ten times (caps, levels and the numbers in its
 * thresholds) so the test stays light, with every threshold it ships kept. And the workflow's extra
 * `--expect 'p95(keepalive_wait) < 1s or none'` passes when nothing queued.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, ROOT, tmpDir, writeScenario } from '../helpers/cli.js';

/** The shipped scenario, every count divided by ten; `extraMock` is added under `mock:`. */
function scaled(extraMock = '', drain?: string, hold?: string): string {
  let y = fs.readFileSync(path.join(ROOT, 'scenarios/ci-check.yaml'), 'utf8');
  const swaps: [RegExp, string][] = [
    [/deepseek-v4-flash: 2500/, 'deepseek-v4-flash: 250'],
    [/deepseek-v4-pro: 500/, 'deepseek-v4-pro: 50'],
    [/start: 100/, 'start: 10'],
    [/max: 3000/, 'max: 300'],
    [/cap\(deepseek-v4-flash\) >= 2000/, 'cap(deepseek-v4-flash) >= 200'],
    [/cap\(deepseek-v4-pro\) >= 400/, 'cap(deepseek-v4-pro) >= 40'],
    [/ok\(deepseek-v4-flash\) >= 1000/, 'ok(deepseek-v4-flash) >= 100'],
    [/ok\(deepseek-v4-pro\) >= 200/, 'ok(deepseek-v4-pro) >= 20'],
    [/inflight <= 400/, 'inflight <= 40'],
    [/inflight <= 1500/, 'inflight <= 150'],
  ];
  for (const [re, to] of swaps) {
    expect(y, `ci-check.yaml no longer has ${re}`).toMatch(re);
    y = y.replace(re, to);
  }
  if (drain) y = y.replace(/drain: 30s/, `drain: ${drain}`);
  if (hold) y = y.replace(/hold: 3s/, `hold: ${hold}`);
  return y.replace(/^mock:\n/m, `mock:\n${extraMock}`);
}

describe('scenarios/ci-check.yaml', () => {
  test('passes on a healthy mock (exit 0), with successes measured and no queueing allowed by `or none`', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', writeScenario(dir, 'ci.yaml', scaled()), '--quiet', '--out', out, '--expect', 'p95(keepalive_wait) < 1s or none']);
    const rep = readReport(out);
    expect(r.code, r.stdout).toBe(0);
    expect(rep.thresholds.every((t) => t.passed)).toBe(true);
    const ok = (m: string) => rep.models.find((x) => x.model === m)!.steps.reduce((n, s) => n + s.ok, 0);
    expect(ok('deepseek-v4-flash')).toBeGreaterThanOrEqual(100);
    expect(ok('deepseek-v4-pro')).toBeGreaterThanOrEqual(20);
    expect(rep.thresholds.find((t) => t.expression.endsWith('or none'))!.actual_text).toBe('none');
  }, 120_000);

  test('fails (exit 99) when the mock answers nothing in time', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    // Every request is admitted and then nothing is sent for 10 minutes; levels and the drain give up after 1 s.
    const yaml = scaled('  faults:\n    - { kind: slow_headers, duration: 10m }\n', '1s', '1s');
    const r = await dsprobe(['run', writeScenario(dir, 'ci-dead.yaml', yaml), '--quiet', '--out', out]);
    expect(r.code, r.stdout).toBe(99);
    const rep = readReport(out);
    const failed = rep.thresholds.filter((t) => !t.passed).map((t) => t.expression);
    expect(failed).toContain('ok(deepseek-v4-flash) >= 100');
    expect(failed).toContain('ok(deepseek-v4-pro) >= 20');
    expect(rep.thresholds.find((t) => t.expression === 'ok(deepseek-v4-flash) >= 100')!.actual).toBe(0);
  }, 120_000);

  test('docs/github-actions.md runs the shipped scenario with the `or none` form', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/github-actions.md'), 'utf8');
    expect(doc).toMatch(/--expect 'p95\(keepalive_wait\) < 1s or none'/);
    expect(doc).toMatch(/scenarios\/ci-check\.yaml/);
  });
});
