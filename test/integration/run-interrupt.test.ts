/**
 * Ctrl-C during a run: dsprobe stops, aborts what is in flight, writes the partial report marked interrupted,
 * and samples.ndjson holds only whole lines. Also: the unreachable-target exit code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import type { Report } from '../../src/types.js';

describe('interrupting a run', () => {
  test('SIGINT leaves a partial report marked interrupted and whole samples', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'long.yaml',
      `
name: long-ramp
target: { url: mock }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 50, max_tokens: 100, stream: true }
load: { mode: ramp, start: 20, step: 20, max: 200, hold: 60s }
mock:
  latency: { answer_tokens: 100, inter_token: 5ms }
`,
    );
    const out = path.join(dir, 'out');
    const r = await dsprobe(['run', file, '--out', out], {
      onSpawn: (child) => {
        // Interrupt once samples are on disk (the header line plus at least some samples).
        const poll = setInterval(() => {
          const p = path.join(out, 'samples.ndjson');
          if (fs.existsSync(p) && fs.readFileSync(p, 'utf8').split('\n').length > 50) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 100);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(r.code).toBe(130);
    const rep = readReport(out);
    expect(rep.status).toBe('interrupted');
    const lines = fs.readFileSync(path.join(out, 'samples.ndjson'), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    const parsed = lines.slice(0, -1).map((l) => JSON.parse(l));
    expect(parsed[0].kind).toBe('dsprobe.samples/v1');
    // Every request of the report is in the samples (besides the step markers): nothing measured is lost.
    const steps = parsed.filter((x: { kind?: string }) => x.kind === 'step');
    const ends = parsed.filter((x: { kind?: string }) => x.kind === 'step_end');
    expect(steps.length).toBe(rep.models[0]!.steps.length);
    // An interrupted run still ends cleanly: each step's end reason is written (an interrupted step says so).
    expect(ends.map((e: { ended_by: string }) => e.ended_by)).toEqual(rep.models[0]!.steps.map((s) => s.ended_by));
    expect(parsed.length - 1 - steps.length - ends.length).toBe(rep.cost.requests);
    expect(parsed.some((s: { outcome: string; detail?: string }) => s.outcome === 'aborted' && s.detail === 'interrupted')).toBe(true);
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
  });

  test('an unreachable target is a clear message and exit 3', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'down.yaml',
      `
name: down
target: { url: "http://127.0.0.1:9", api_key_env: FAKE_KEY }
models:
  deepseek-v4-flash: {}
load: { mode: search, start: 2, max: 4, hold: 1s }
`,
    );
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--yes'], { env: { FAKE_KEY: 'sk-unreachable-0000' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unreachable/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
