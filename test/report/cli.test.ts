/**
 * The report, compare and merge commands, run in-process through commander with a fake IO (the same
 * registration main() uses), on fixture files in a temp dir: outputs written, exit codes, and bad input
 * reported with the file and what was wrong.
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/commands/report.js';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { mergeCommand } from '../../src/cli/commands/merge.js';
import { DsprobeError, EXIT, formatProblems } from '../../src/errors.js';
import type { CliIO } from '../../src/cli/io.js';
import type { Report } from '../../src/types.js';
import { DEFAULT_MODELS, generate } from './fixtures/generate.js';

async function cli(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let code: number = EXIT.OK;
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: {},
    env: {},
    cwd,
    signal: new AbortController().signal,
  };
  const program = new Command().exitOverride().configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  for (const c of [reportCommand, compareCommand, mergeCommand]) c.register(program, io, (x) => (code = x));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // As cli/main.ts does: our errors print their message and problems; commander's are usage errors.
    if (err instanceof DsprobeError) {
      stderr += `dsprobe: ${err.message}${err.problems.length ? '\n' + formatProblems(err.problems) : ''}\n`;
      code = err.exitCode;
    } else if (err instanceof CommanderError) code = err.exitCode === 0 ? 0 : EXIT.USAGE;
    else throw err;
  }
  return { code, stdout, stderr };
}

let dir = '';
const { report, shards, samples } = generate({ shards: 2 });
const worse = generate({ models: [{ ...DEFAULT_MODELS[0]!, cap: 2400 }, DEFAULT_MODELS[1]!] }).report;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsprobe-report-cli-'));
  mkdirSync(join(dir, 'run1'));
  writeFileSync(join(dir, 'run1', 'report.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(dir, 'worse.json'), JSON.stringify(worse));
  writeFileSync(join(dir, 's0.json'), JSON.stringify(shards[0]));
  writeFileSync(join(dir, 's1.json'), JSON.stringify(shards[1]));
  writeFileSync(join(dir, 'broken.json'), '{\n  "schema": "dsprobe.report/v1",\n  "name": oops\n}\n');
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ schema: 'k6/v0', name: 'x' }));
  writeFileSync(join(dir, 'noshape.json'), JSON.stringify({ schema: 'dsprobe.report/v1', name: 'x', models: [{ model: 'm' }] }));
  mkdirSync(join(dir, 'fromsamples'));
  const header = {
    kind: 'dsprobe.samples/v1',
    name: 'rebuilt-run',
    started_at: report.started_at,
    seed: 1,
    mode: 'search',
    target: report.target,
    scenario: report.scenario,
    models: report.models.map((m) => ({ name: m.model, weight: m.weight })),
    pricing: {},
  };
  const lines = [JSON.stringify(header), ...samples.map((s) => JSON.stringify(s))];
  writeFileSync(join(dir, 'fromsamples', 'samples.ndjson'), lines.join('\n') + '\n{"id": 99999, "mod');
});

describe('dsprobe report', () => {
  it('re-renders a run directory into report.html beside its report.json', async () => {
    const r = await cli(['report', 'run1'], dir);
    expect(r.code).toBe(0);
    const html = readFileSync(join(dir, 'run1', 'report.html'), 'utf8');
    expect(html).toContain('deepseek-v4-flash');
    expect(html).toContain('id="dsprobe-data"');
    expect(r.stdout.trim()).toBe(join(dir, 'run1', 'report.html'));
  });

  it('writes --html and --json where asked', async () => {
    const r = await cli(['report', 'run1/report.json', '--html', 'out.html', '--json', 'out.json'], dir);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'out.html'))).toBe(true);
    expect((JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Report).name).toBe(report.name);
  });

  it('rebuilds the whole report from samples.ndjson (a torn last line is skipped)', async () => {
    const r = await cli(['report', 'fromsamples/samples.ndjson'], dir);
    expect(r.stderr).toContain('rebuilt from');
    expect(r.code).toBe(0);
    const rebuilt = JSON.parse(readFileSync(join(dir, 'fromsamples', 'report.json'), 'utf8')) as Report;
    expect(rebuilt.name).toBe('rebuilt-run');
    const flash = rebuilt.models.find((m) => m.model === 'deepseek-v4-flash')!;
    expect(flash.steps.reduce((a, s) => a + s.requests, 0)).toBe(report.models[0]!.steps.reduce((a, s) => a + s.requests, 0));
    expect(flash.cap.high).toBe(2501);
    expect(rebuilt.warnings.join(' ')).toMatch(/skipped/);
    expect(existsSync(join(dir, 'fromsamples', 'report.html'))).toBe(true);
  });

  it('a rebuild writes a matching pair, marks the loop figures unknown and prints its warnings', async () => {
    // Beside an existing report.json: a rebuilt pair of its own, the live report untouched.
    writeFileSync(join(dir, 'fromsamples', 'report.json'), '{"live": true}');
    const r = await cli(['report', 'fromsamples/samples.ndjson'], dir);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'fromsamples', 'report.json'), 'utf8')).toBe('{"live": true}');
    const json = JSON.parse(readFileSync(join(dir, 'fromsamples', 'rebuilt-report.json'), 'utf8')) as Report;
    const html = readFileSync(join(dir, 'fromsamples', 'rebuilt-report.html'), 'utf8');
    expect(r.stdout.trim().split('\n').sort()).toEqual([join(dir, 'fromsamples', 'rebuilt-report.html'), join(dir, 'fromsamples', 'rebuilt-report.json')]);
    // The pair is one report: the page's data block is drawn from the JSON beside it.
    expect(html).toContain(`${json.models[0]!.steps.length}`);
    expect(html).toContain(json.started_at);
    // Loop figures are unknown (null), not 0 / healthy, in the JSON and on the page.
    expect(json.loop).toEqual({ delay_p50_ms: null, delay_p99_ms: null, delay_max_ms: null, warning: null });
    expect(html).toContain('Unknown: this report was rebuilt from samples.ndjson');
    expect(html).not.toContain('Healthy: latency figures');
    // Warnings printed, one a line.
    expect(r.stderr).toMatch(/^warning: Rebuilt from samples\.ndjson: event-loop figures .* unknown\)\.$/m);
    expect(r.stderr).toMatch(/^warning: 1 unreadable line/m);
    // --html alone: the JSON of the same report lands beside it.
    const h = await cli(['report', 'fromsamples/samples.ndjson', '--html', 'pair-x.html'], dir);
    expect(h.code).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'pair-x.json'), 'utf8')) as Report).name).toBe('rebuilt-run');
  });

  it('names the file, line and column of bad JSON, exit 2', async () => {
    const r = await cli(['report', 'broken.json'], dir);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toMatch(/broken\.json:3:\d+: not valid JSON/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says what is wrong with a file that is not a dsprobe report, exit 2', async () => {
    const a = await cli(['report', 'other.json'], dir);
    expect(a.code).toBe(EXIT.USAGE);
    expect(a.stderr).toContain('schema: expected "dsprobe.report/v1", got "k6/v0"');
    const b = await cli(['report', 'noshape.json'], dir);
    expect(b.code).toBe(EXIT.USAGE);
    expect(b.stderr).toContain('models[0].steps: expected an array');
    const c = await cli(['report', 'missing.json'], dir);
    expect(c.code).toBe(EXIT.USAGE);
    expect(c.stderr).toContain('missing.json: no such file or directory');
  });
});

describe('dsprobe compare', () => {
  it('prints the table, writes HTML, and exits 99 on a regression only when asked', async () => {
    const r = await cli(['compare', 'run1/report.json', 'worse.json', '--html', 'cmp.html'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cap fell from 2500 to 2400');
    expect(readFileSync(join(dir, 'cmp.html'), 'utf8')).toContain('regression');
    const f = await cli(['compare', 'run1', 'worse.json', '--fail-on-regression'], dir);
    expect(f.code).toBe(EXIT.THRESHOLDS_FAILED);
    const same = await cli(['compare', 'run1', 'run1/report.json', '--fail-on-regression'], dir);
    expect(same.code).toBe(0);
  });

  it('compares the two models of one report', async () => {
    const r = await cli(['compare', 'run1'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Comparing models against deepseek-v4-flash');
  });
});

describe('dsprobe merge', () => {
  it('merges shard files into one report with shards: 2', async () => {
    const r = await cli(['merge', 's0.json', 's1.json', '-o', 'merged.json', '--html', 'merged.html'], dir);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as Report;
    expect(m.shards).toBe(2);
    expect(m.models.map((x) => x.cap.estimate)).toEqual([2500, 480]);
    expect(existsSync(join(dir, 'merged.html'))).toBe(true);
  });

  it('refuses a single shard and a missing -o, exit 2', async () => {
    expect((await cli(['merge', 's0.json', '-o', 'x.json'], dir)).code).toBe(EXIT.USAGE);
    expect((await cli(['merge', 's0.json', 's1.json'], dir)).code).toBe(EXIT.USAGE);
  });
});

describe('jsonErrorOffset', () => {
  it('points at the first bad character', async () => {
    const { jsonErrorOffset } = await import('../../src/report/rebuild.js');
    expect(jsonErrorOffset('{"a": oops}')).toBe(6);
    expect(jsonErrorOffset('[1, 2,, 3]')).toBe(6);
    expect(jsonErrorOffset('{"a": "x\\"y", "b": [true, null, -1.5e3]} x')).toBe(41);
    expect(jsonErrorOffset('{"a": "unterminated')).toBe(19);
  });
});
