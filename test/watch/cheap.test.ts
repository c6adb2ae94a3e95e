import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';

const scenario = (extra = '', timeScale = 0.1) => `name: cheap
target: { url: mock }
models:
  deepseek-v4-flash: {}
  deepseek-v4-pro: {}
request: { prompt_tokens: 1200, max_tokens: 200 }
load: { mode: search, start: 5, max: 400, hold: 5s }
${extra}
mock:
  time_scale: ${timeScale}
  caps: { deepseek-v4-flash: 60, deepseek-v4-pro: 20 }
`;

describe('cheap probes (probe: cheap / --cheap)', () => {
  it('find both caps exactly, and the mock billed what dsprobe says the search cost (within 1%)', async () => {
    const dir = tmpDir();
    // Real-time latency (time scale 1) and a first token 3 s after admission: every level is decided before its
    // first token even on a heavily loaded machine, so the bill is prompts, which the calibration prices exactly. (When a
    // launch is slower than the first token, a cut request's output is counted from the tokens received: a lower
    // bound, since the server also bills what was in flight when it was cut; docs/watch.md.)
    const file = writeScenario(dir, 'cheap.yaml', scenario('', 1).replace('time_scale: 1', "time_scale: 1\n  latency: { prefill_overhead: 3s }"));
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--cheap', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(out);
    expect(report.models.map((m) => [m.model, m.cap.status, m.cap.estimate])).toEqual([
      ['deepseek-v4-flash', 'found', 60],
      ['deepseek-v4-pro', 'found', 20],
    ]);
    // Every request but the calibration was a few-token prompt; the search's cost is reported apart.
    expect(report.cost.split?.search_usd).toBeCloseTo(report.cost.usd, 6);
    expect(report.cost.split?.measure_usd).toBe(0);
    const billed = Number(/mock billing \(ground truth, no real money\): \$([\d.]+)/.exec(r.stderr)?.[1]);
    expect(billed).toBeGreaterThan(0);
    expect(Math.abs(report.cost.usd - billed) / billed).toBeLessThan(0.01);
    // Cheap: the same search at the workload (1200-token prompts) would cost far more.
    const flash = report.models[0]!.steps.filter((s) => s.ended_by !== 'calibration');
    expect(flash.every((s) => s.tokens.prompt <= s.requests * 8)).toBe(true);
  });

  it('measure_at holds fractions of the found cap with the real request shape, priced apart', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'm.yaml', scenario('probe: cheap\nmeasure_at: [50%]\n').replace('hold: 5s', 'hold: 2s'));
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(out);
    // On a starved machine a search can end unclear; measure_at follows only a found cap, so judge those.
    const found = report.models.filter((m) => m.cap.status === 'found');
    expect(found.length).toBeGreaterThan(0);
    for (const m of found) {
      const measured = m.steps.filter((s) => s.ended_by === 'measure');
      expect(measured.map((s) => s.target_inflight)).toEqual([Math.floor((m.cap.estimate ?? 0) / 2)]);
      // The workload's 1200-token prompts, not the probe's few tokens.
      expect(measured[0]!.tokens.prompt / Math.max(1, measured[0]!.requests)).toBeGreaterThan(1000);
    }
    expect(report.cost.split!.measure_usd).toBeGreaterThan(0);
    expect(report.cost.split!.search_usd + report.cost.split!.measure_usd).toBeCloseTo(report.cost.usd, 5);
    // Rebuilt from the samples alone, the levels keep their labels (calibration, measure, decided_...) and the
    // cost keeps its split.
    const again = await dsprobe(['report', path.join(out, 'samples.ndjson'), '--json', path.join(dir, 'rebuilt.json')]);
    expect(again.code, again.stderr).toBe(0);
    const rebuilt = JSON.parse(fs.readFileSync(path.join(dir, 'rebuilt.json'), 'utf8')) as typeof report;
    for (const m of report.models) {
      const twin = rebuilt.models.find((x) => x.model === m.model)!;
      expect(twin.steps.map((s) => s.ended_by)).toEqual(m.steps.map((s) => s.ended_by));
    }
    expect(rebuilt.cost.split!.measure_usd).toBeCloseTo(report.cost.split!.measure_usd, 6);
    const plan = await dsprobe(['plan', file]);
    expect(plan.stdout).toMatch(/cap search: ~\$[\d.]+ expected/);
    expect(plan.stdout).toMatch(/measurement at the workload \(measure_at\): \$[\d.]+ worst case/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
