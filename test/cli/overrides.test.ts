/**
 * Issue 14, section 2: overrides without copying files, options that never swallow the scenario path, and
 * output paths checked before anything is sent. The real CLI against the real mock, over loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { dsprobe, readReport, tmpDir, writeScenario } from '../helpers/cli.js';
import type { Report } from '../../src/types.js';

const small = (extra = '') => `
name: overrides
target: { url: mock }
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

/** Each model's levels in the order the run tried them. */
const path_ = (r: Report) => Object.fromEntries(r.models.map((m) => [m.model, m.steps.map((s) => s.target_inflight)]));

describe('run: overrides and k6-style flag order', () => {
  test('options before the path (repeatable --expect, --set, --seed, --models) and the report shows them', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    const out = path.join(dir, 'out');
    const r = await dsprobe(
      ['run', '--expect', 'cap(deepseek-v4-flash) >= 1', '-e', 'cap(deepseek-v4-flash) <= 1000', '--set', 'load.max=60', '--seed', '7', '--models', 'flash', '--quiet', '--out', out, file],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const rep = readReport(out);
    expect(rep.models.map((m) => m.model)).toEqual(['deepseek-v4-flash']);
    expect(rep.seed).toBe(7);
    expect(rep.thresholds.map((t) => t.expression)).toEqual(['cap(deepseek-v4-flash) >= 1', 'cap(deepseek-v4-flash) <= 1000']);
    expect(Math.max(...rep.models[0]!.steps.map((s) => s.target_inflight))).toBeLessThanOrEqual(60);
    expect(rep.models[0]!.cap.estimate).toBe(20);
    // Reports hold no absolute local path; the terminal names files relative to the working directory.
    expect(JSON.stringify(rep)).not.toContain(dir);
    expect((rep.scenario as { file?: string }).file).toBe('s.yaml');
    expect(r.stderr).toContain('reports: out/report.json');
  });

  test('the seed repeats the search on the mock: the same climb, the same caps', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    const runs: Report[] = [];
    for (const o of ['a', 'b']) {
      // A level retried because dsprobe was client-bound (a loaded machine) changes the path: not this test's subject.
      const r = await dsprobe(['run', file, '--quiet', '--seed', '11', '--out', path.join(dir, o)], { env: { DSPROBE_TEST_CLIENT_LAG_LIMIT_MS: '1000000' } });
      expect(r.code, r.stderr).toBe(0);
      runs.push(readReport(path.join(dir, o)));
    }
    // The climb up to the first level over the cap is the same; the levels tried after it start from how many
    // requests the server was seen holding when the 429 came, which is timing (docs/scenario.md, `seed`).
    const climb = (r: Report) => Object.fromEntries(Object.entries(path_(r)).map(([m, ls]) => [m, ls.slice(0, ls.findIndex((l, i) => i > 0 && l < ls[i - 1]!))]));
    expect(climb(runs[1]!)).toEqual(climb(runs[0]!));
    expect(runs[0]!.models.map((m) => m.cap.estimate)).toEqual([20, 8]);
    expect(runs[1]!.models.map((m) => m.cap.estimate)).toEqual([20, 8]);
  });

  test('a bad override is checked like the file and names the option; nothing runs', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    const r = await dsprobe(['run', file, '--set', 'load.max=lots', '--set', 'load.hodl=3', '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set load\.max=lots: load\.max: expected .*integer/);
    expect(r.stderr).toMatch(/--set load\.hodl=3: load\.hodl: unknown key `hodl`[\s\S]*did you mean `hold`/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    const bad = await dsprobe(['run', file, '--set', 'nothing-to-set']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected KEY=VALUE/);
  });

  test('--need MODEL=N is `--set models.MODEL.need=N` (short names allowed)', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    const viaNeed = await dsprobe(['validate', file, '--need', 'flash=10']);
    const viaSet = await dsprobe(['validate', file, '--set', 'models.deepseek-v4-flash.need=10']);
    expect(viaNeed.code).toBe(viaSet.code);
    // Same verdict, same message, apart from the option named. (Before `need:` exists, both report it as an unknown key.)
    expect(viaNeed.stderr.replace('--need flash=10', 'X')).toBe(viaSet.stderr.replace('--set models.deepseek-v4-flash.need=10', 'X'));
    // A key that exists today goes the same way: a short model name resolves.
    const max = await dsprobe(['validate', file, '--set', 'models.pro.max=3']);
    expect(max.code).toBe(2);
    expect(max.stderr).toMatch(/--set models\.pro\.max=3: models\.deepseek-v4-pro\.max: must be >= load\.start \(got 3 < 4\)/);
  });
});

describe('one file for PR CI (mock) and launch (real API)', () => {
  test('a mock block with a real URL is a warning, and --url mock runs it on the mock', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small().replace('target: { url: mock }', 'target: { url: "https://api.deepseek.com" }'));
    const v = await dsprobe(['validate', file], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/warning: s\.yaml:\d+:\d+: mock: ignored: target\.url is not `mock`/);
    const p = await dsprobe(['plan', file, '--url', 'mock', '--json'], { cwd: dir });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).not.toMatch(/ignored/);
    expect(JSON.parse(p.stdout).target).toBe('mock');
    const u = await dsprobe(['validate', file, '--url', 'ftp://x'], { cwd: dir });
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--url ftp:\/\/x: target\.url: expected `mock` or an http\(s\) URL/);
  });

  test('a key the mode ignores is a warning with the reason; validate says what start/max mean', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small().replace('deepseek-v4-flash: {}', 'deepseek-v4-flash: { weight: 4 }'));
    const v = await dsprobe(['validate', file], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/warning: s\.yaml:5:\d+: models\.deepseek-v4-flash\.weight: ignored in search mode: each model searches its own cap/);
    expect(v.stdout).toMatch(/search: load\.start and load\.max are per model/);
    const ramp = await dsprobe(['validate', file, '--set', 'load.mode=ramp', '--set', 'load.growth=3'], { cwd: dir });
    expect(ramp.code).toBe(0);
    expect(ramp.stderr).not.toMatch(/weight/);
    expect(ramp.stderr).toMatch(/--set load\.growth=3: load\.growth: ignored in ramp mode/);
    expect(ramp.stdout).toMatch(/ramp: load\.start, load\.step and load\.max are the total in flight, split across the models by weight \(4:1\)/);
  });
});

describe('output paths are checked before anything is sent', () => {
  test('an existing non-empty --out is refused unless --overwrite', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const r = await dsprobe(['run', file, '--quiet', '--out', out], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out: out: the output directory already holds files[\s\S]*--overwrite/);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    const ok = await dsprobe(['run', file, '--quiet', '--out', out, '--overwrite', '--models', 'pro'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['keep.txt', 'report.html', 'report.json', 'samples.ndjson']);
  });

  test('a bad --junit is refused before the run, and no empty folder is left', async () => {
    const dir = tmpDir();
    const file = writeScenario(dir, 's.yaml', small());
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const r = await dsprobe(['run', file, '--quiet', '--out', 'new/out', '--junit', 'a-file/junit.xml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--junit: a-file\/junit\.xml: cannot write the output file: a-file is a file/);
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false);
    fs.mkdirSync(path.join(dir, 'adir'));
    const d = await dsprobe(['run', file, '--quiet', '--out', 'new/out', '--junit', 'adir'], { cwd: dir });
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--junit: adir: is a directory/);
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false);
  });
});
