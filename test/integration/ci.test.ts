/**
 * dsprobe as a CI capacity check: thresholds, exit codes, JUnit, step summary, JSON on stdout, budgets,
 * confirmation before paid traffic, and keys that never leak.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, readTree, tmpDir, writeScenario } from '../helpers/cli.js';
import type { Report } from '../../src/types.js';

const small = (extra = '') => `
name: ci-check
target: { url: mock, api_key_env: CI_KEY }
models:
  deepseek-v4-flash: {}
  deepseek-v4-pro: {}
request: { prompt_tokens: 50, max_tokens: 200, stream: true }
load: { mode: search, start: 4, max: 100, hold: 5s }
mock:
  caps: { deepseek-v4-flash: 20, deepseek-v4-pro: 8 }
  latency: { answer_tokens: 200, inter_token: 10ms, chunk_tokens: 8 }
seed: 2
${extra}`;

const CANARY = 'sk-CANARY-dsprobe-0123456789abcdef';

describe('CI capacity checks', () => {
  test('a threshold that must fail exits 99 and writes JUnit and the step summary', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small('expect:\n  - "rate_429(deepseek-v4-pro, inflight <= 8) < 0.01"\n'));
    const junit = path.join(dir, 'junit.xml');
    const summary = path.join(dir, 'summary.md');
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet', '--junit', junit, '--expect', 'cap(deepseek-v4-flash) >= 2000'], {
      env: { CI_KEY: CANARY, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(99);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml/);
    expect(xml).toMatch(/<testsuite[^>]*failures="1"/);
    expect(xml).toMatch(/cap\(deepseek-v4-flash\) &gt;= 2000/);
    expect(xml).toMatch(/<failure/);
    const rep = readReport(path.join(dir, 'out'));
    const t = rep.thresholds.find((x) => x.expression.startsWith('cap('))!;
    expect(t).toMatchObject({ passed: false, actual: 20 });
    expect(rep.thresholds.find((x) => x.expression.startsWith('rate_429'))!.passed).toBe(true);
    expect(fs.readFileSync(summary, 'utf8')).toMatch(/deepseek-v4-flash/);
    expect(r.stdout).toMatch(/FAIL\s+cap\(deepseek-v4-flash\) >= 2000/);
  });

  test('passing thresholds exit 0; --json prints a summary for scripts on stdout', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small('expect:\n  - "cap(deepseek-v4-flash) >= 20"\n  - "cap(deepseek-v4-pro) == 8"\n'));
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--json'], { env: { CI_KEY: CANARY } });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toBeTypeOf('object');
    expect(JSON.stringify(j)).toMatch(/deepseek-v4-pro/);
  });

  test('bad usage and bad scenarios exit 2 without a stack trace', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'bad.yaml', 'name: x\ntarget: { url: mock }\nmodels: { deepseek-v4-flash: { wieght: 2 } }\nload: { mode: serch }\n');
    const r = await dsprobe(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+/);
    expect(r.stderr).toMatch(/weight/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const r2 = await dsprobe(['run', file, '--expect', 'p99(ttft) < 2 parsecs']);
    expect(r2.code).toBe(2);
    expect((await dsprobe(['run'])).code).toBe(2);
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const r3 = await dsprobe(['run', writeScenario(dir, 'ok.yaml', small()), '--out', path.join(dir, 'not-a-dir', 'out')], { env: { CI_KEY: CANARY } });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/cannot write the output directory/);
    expect((await dsprobe(['frobnicate'])).code).toBe(2);
  });

  test('abort_on_fail stops the run at the first level that fails the threshold', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small('expect:\n  - { expr: "rate_429(deepseek-v4-flash) < 0.01", abort_on_fail: true }\n'));
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet'], { env: { CI_KEY: CANARY } });
    expect(r.code).toBe(99);
    const rep = readReport(path.join(dir, 'out'));
    expect(rep.status).toBe('aborted_by_threshold');
    expect(rep.status_reason).toMatch(/rate_429/);
    // It stopped at the first 429 level (32 > cap 20) instead of searching on.
    const flash = rep.models.find((m) => m.model === 'deepseek-v4-flash')!;
    expect(flash.steps.map((x) => x.target_inflight)).toEqual([4, 8, 16, 32]);
  });

  test('abort_on_fail works in ramp mode too', async () => {
    const dir = tmpDir();
    const file = writeScenario(
      dir,
      'ramp.yaml',
      `
name: ramp-abort
target: { url: mock }
models:
  deepseek-v4-flash: {}
request: { prompt_tokens: 50, max_tokens: 50, stream: true }
load: { mode: ramp, start: 5, step: 5, max: 40, hold: 1s }
mock:
  caps: { deepseek-v4-flash: 12 }
  latency: { answer_tokens: 50, inter_token: 10ms }
expect:
  - { expr: "rate_429(deepseek-v4-flash) < 0.01", abort_on_fail: true }
`,
    );
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(99);
    const rep = readReport(path.join(dir, 'out'));
    expect(rep.status).toBe('aborted_by_threshold');
    expect(rep.models[0]!.steps.map((x) => x.target_inflight)).toEqual([5, 10, 15]);
  });

  test('a token budget stops the run: marked in the report, exit 3', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small('budget: { max_tokens: 2000 }\n'));
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--quiet'], { env: { CI_KEY: CANARY } });
    expect(r.code).toBe(3);
    const rep = readReport(path.join(dir, 'out'));
    expect(rep.status).toBe('budget_exceeded');
    expect(rep.status_reason).toMatch(/budget/);
  });

  test('a real target without a terminal and without --yes is refused before anything is sent', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 'real.yaml', 'name: real\ntarget: { url: "http://127.0.0.1:9", api_key_env: CI_KEY }\nmodels: { deepseek-v4-pro: {} }\nload: { mode: search, start: 10, max: 600, hold: 10s }\n');
    const r = await dsprobe(['run', file, '--out', path.join(dir, 'out')], { env: { CI_KEY: CANARY } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--yes/);
    expect(r.stderr).toMatch(/\$\d/);
    const plan = await dsprobe(['plan', file], { env: { CI_KEY: CANARY } });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\$\d+\.\d{2}/);
  });

  test('the API key never appears in any file written or any line printed', async () => {
    const dir = tmpDir();
    const outputs: string[] = [];
    const file = writeScenario(dir, 's.yaml', small('expect:\n  - "cap(deepseek-v4-flash) >= 2000"\n'));
    const runs = [
      await dsprobe(['run', file, '--out', path.join(dir, 'out'), '--junit', path.join(dir, 'j.xml'), '--json'], { env: { CI_KEY: CANARY, GITHUB_STEP_SUMMARY: path.join(dir, 'sum.md') } }),
      await dsprobe(['run', writeScenario(dir, 'r.yaml', 'name: r\ntarget: { url: "http://127.0.0.1:9", api_key_env: CI_KEY }\nmodels: { deepseek-v4-pro: {} }\nload: { mode: search, start: 2, max: 4, hold: 1s }\n'), '--yes', '--out', path.join(dir, 'out2')], { env: { CI_KEY: CANARY } }),
      await dsprobe(['plan', path.join(dir, 'r.yaml')], { env: { CI_KEY: CANARY } }),
      await dsprobe(['validate', file], { env: { CI_KEY: CANARY } }),
    ];
    for (const r of runs) outputs.push(r.stdout, r.stderr);
    expect(runs[0]!.code).toBe(99);
    for (const text of outputs) expect(text).not.toContain(CANARY);
    const files = readTree(dir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(f.text.includes(CANARY), f.file).toBe(false);
  });
});
