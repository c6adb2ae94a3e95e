import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { Command } from 'commander';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { planCommand } from '../../src/cli/commands/plan.js';
import { DsprobeError, formatProblems } from '../../src/errors.js';
import type { CliIO } from '../../src/cli/io.js';

const dir = mkdtempSync(join(tmpdir(), 'dsprobe-cli-'));
const BAD = join(dir, 'bad.yaml');
/** How dsprobe names it: relative to the working directory (the repository root, where the tests run). */
const SHOWN = relative(process.cwd(), BAD);
writeFileSync(BAD, 'target: { url: mock }\nmodels: { deepseek-v4-flash: { wieght: 2 } }\nload: { mode: ramp, start: 50, max: 10 }\n');
const RETIRED = join(dir, 'retired.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(RETIRED, 'target: { url: mock }\nmodels: { deepseek-chat: {} }\nload: { mode: ramp, start: 5, max: 5, hold: 1s }\n');

/** Runs one of this area's commands in-process, the way main() does (a DsprobeError becomes its exit code). */
async function runCmd(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  let code = 0;
  const io: CliIO = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: { isTTY: false },
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  } as unknown as CliIO;
  const program = new Command().exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  for (const c of [validateCommand, planCommand]) c.register(program, io, (n) => (code = n));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof DsprobeError)) throw e;
    err += `dsprobe: ${e.message}\n${formatProblems(e.problems)}\n`;
    code = e.exitCode;
  }
  return { code, out, err };
}

describe('validate and plan, in-process', () => {
  it('validate: ok plus a one-line summary per file, exit 0', async () => {
    const r = await runCmd(['validate', 'scenarios/quickstart.yaml', 'scenarios/ramp.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'ok scenarios/quickstart.yaml: quickstart: search 100..4000 (×2, ±1), hold 8s; 2 model(s): deepseek-v4-flash, deepseek-v4-pro; openai → the mock\n' +
        '  search: load.start and load.max are per model (each model searches its own cap from start up to max; models.X.inflight / models.X.max override them for one model)\n' +
        'ok scenarios/ramp.yaml: ramp-example: ramp 20..120 step 10, hold 2s; 2 model(s): deepseek-v4-flash ×3, deepseek-v4-pro ×1; openai → the mock\n' +
        '  ramp: load.start, load.step and load.max are the total in flight, split across the models by weight (3:1)\n',
    );
    expect(r.err).toBe('');
  });

  it('validate: every problem with file:line:col and a hint, exit 2', async () => {
    const r = await runCmd(['validate', BAD]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${SHOWN}: 2 problem(s)\n`);
    expect(r.err).toContain(`${SHOWN}:2:32: models.deepseek-v4-flash.wieght: unknown key \`wieght\`\n  hint: did you mean \`weight\`?`);
    expect(r.err).toContain(`${SHOWN}:3:37: load.max: must be >= load.start (got 10 < 50)`);
  });

  it('validate: warnings go to stderr and do not fail', async () => {
    const r = await runCmd(['validate', RETIRED]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^warning: models\.deepseek-chat: model `deepseek-chat` was retired on 2026-07-24/);
  });

  it('validate: a missing file is a usage error', async () => {
    const r = await runCmd(['validate', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml: cannot read it \(no such file\)/);
  });

  it('plan: steps, worst case and assumptions; --json', async () => {
    const r = await runCmd(['plan', 'scenarios/real-api-check.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plan: real-api-check/);
    expect(r.out).toMatch(/worst case: [\d,]+ requests, [\d,]+ tokens, \$\d+\.\d\d, /);
    const j = await runCmd(['plan', 'scenarios/ramp.yaml', '--json', '--latency', '1000']);
    expect(j.code).toBe(0);
    const plan = JSON.parse(j.out);
    expect(plan.latency_ms).toBe(1000);
    // The mock's caps (60 + 20) are met at 80 in flight: at 90 the 10 slots over them are refused and back off
    // (3 refusals each in a 2 s hold at the default 1 s base), a 429 share over the 5 % stop rule ends the plan there.
    expect(plan.steps).toHaveLength(8);
    expect(plan.worst_case.requests).toBe(2 * (20 + 30 + 40 + 50 + 60 + 70 + 80) + 2 * 80 + 10 * 3);
    expect(plan.steps[7].models.reduce((n: number, m: { refused?: number }) => n + (m.refused ?? 0), 0)).toBe(30);
    expect(plan.schema).toBe('dsprobe.plan/v1');
    expect(plan.mock_caps).toEqual({ 'deepseek-v4-flash': 60, 'deepseek-v4-pro': 20 });
    // Rounded figures: no float noise in --json.
    for (const m of plan.per_model) expect(String(m.usd)).toMatch(/^\d+(\.\d{1,4})?$/);
  });

  it('plan: a bad scenario exits 2; a bad --latency too', async () => {
    expect((await runCmd(['plan', BAD])).code).toBe(2);
    const r = await runCmd(['plan', 'scenarios/ramp.yaml', '--latency', 'fast']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--latency: expected a number of milliseconds > 0/);
  });
});

describe('the real binary', () => {
  beforeAll(() => {
    // Emits even when another area has a type error; only a missing file would stop the binary loading.
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  }, 120_000);
  const bin = (...args: string[]) => spawnSync('node', ['bin/dsprobe.js', ...args], { encoding: 'utf8' });

  it('validate: exit 0 on the repository scenarios, 2 on a bad file', () => {
    const good = bin('validate', 'scenarios/quickstart.yaml', 'scenarios/flash-vs-pro-headroom.yaml', 'scenarios/ramp.yaml', 'scenarios/ci-check.yaml');
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    expect(good.stdout.split('\n').filter((l) => l.startsWith('ok '))).toHaveLength(4);
    const bad = bin('validate', BAD);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${SHOWN}:2:32: models.deepseek-v4-flash.wieght: unknown key`);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('plan: prints a dollar estimate for a real-API scenario; exit 2 on a bad one', () => {
    const r = bin('plan', 'scenarios/real-api-check.yaml');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/worst case: .* \$\d+\.\d\d, /);
    const bad = bin('plan', BAD);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^dsprobe: scenario has 2 problem\(s\)/);
  });
});
