/**
 * The parts of `dsprobe run` around the run itself: keys, thresholds from the command line, the safety steps
 * before paid traffic (plan, confirmation, pre-flight), and writing every output with the right exit code.
 */
import fs from 'node:fs';
import { Chalk } from 'chalk';
import path from 'node:path';
import type { CliIO } from '../io.js';
import { EXIT, DsprobeError, usageError, type Problem } from '../../errors.js';
import type { Scenario } from '../../scenario/types.js';
import type { Report } from '../../types.js';
import { checkThresholdsEarly, evaluateThresholds } from '../../measure/thresholds.js';
import { renderText } from '../../report/text.js';
import { renderHtml } from '../../report/html.js';
import { renderJUnit } from '../../report/junit.js';
import { renderMarkdownSummary } from '../../report/markdown.js';
import { renderJsonSummary } from '../../report/summary-json.js';
import { estimatePlan } from '../../plan/estimate.js';
import { renderPlanText } from '../../plan/plan-text.js';
import { runPreflight } from '../preflight.js';
import { procStatReader, type HostCpuReader } from '../../run/host-cpu.js';
import { appendFileChecked, writeFileAtomic } from '../files.js';
import type { Scrubber } from '../../secrets.js';
import { shownPath } from '../paths.js';
import { autoWorkers } from '../../transport/workers/auto.js';

/** Options of `dsprobe run`. */
export interface RunOptions {
  out?: string;
  expect?: string[];
  junit?: string;
  json?: boolean;
  yes?: boolean;
  quiet?: boolean;
  html?: boolean;
  cheap?: boolean;
  overwrite?: boolean;
  metrics?: string;
  /** `--otlp URL` and `--otlp-interval D`: push the live metrics over OTLP/HTTP. */
  otlp?: string;
  otlpInterval?: string;
  /** `--workers N|auto`: overrides engine.workers. */
  workers?: string;
}

/** `--cheap`: the scenario's search uses cheap probes (keeps any probe options the file set). */
export function applyCheap(s: Scenario): void {
  if (s.load.mode !== 'search') {
    throw usageError('cheap probes (--cheap, dsprobe watch) apply to the cap search only', [
      { path: 'load.mode', message: `is ${s.load.mode}`, hint: 'use load.mode: search (or drop --cheap)' },
    ]);
  }
  s.probe = { ...(s.probe ?? { system_prefix_tokens: 0 }), mode: 'cheap' };
}

/**
 * The worker-thread count: `--workers`, else engine.workers, else auto (available cores minus one, at least 1).
 * A bad value is a usage error (exit 2).
 */
export function resolveWorkers(s: Scenario, flag: string | undefined, cores: number): number {
  const v: number | string = flag ?? s.engine?.workers ?? 'auto';
  if (v === 'auto') return autoWorkers(cores);
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw usageError(`--workers: expected \`auto\` or a whole number from 1 to 256, got \`${String(v)}\``, [
      { path: '--workers', message: 'expected `auto` or 1..256', hint: 'e.g. --workers 2, or --workers auto (cores minus one)' },
    ]);
  }
  return n;
}

/** Adds `--expect` thresholds to the scenario's and checks them all before anything is sent (exit 2 on error). */
export function addExpectations(s: Scenario, exprs: string[]): void {
  for (const e of exprs) s.expect.push({ expression: e, abort_on_fail: false, source: '--expect' });
  const problems: Problem[] = checkThresholdsEarly(s.expect, s);
  if (problems.length) throw usageError(`${problems.length} threshold problem(s)`, problems);
}

/** Reads the API keys named by the scenario from the environment. The mock accepts any key. */
export function resolveKeys(s: Scenario, env: CliIO['env']): string[] {
  const keys: string[] = [];
  const missing: string[] = [];
  for (const name of s.target.api_key_env) {
    const v = env[name];
    if (v) keys.push(v);
    else missing.push(name);
  }
  if (s.target.url === 'mock') return keys.length ? keys : ['dsprobe-mock-key'];
  if (missing.length) {
    throw usageError(`API key missing: environment variable(s) ${missing.join(', ')} not set`, [
      { path: 'target.api_key_env', message: `set ${missing.join(', ')} in the environment`, hint: 'keys are read from environment variables only, never from the scenario file' },
    ]);
  }
  return keys;
}

/**
 * Before paid traffic: show the plan and its worst-case cost, ask for confirmation (or require --yes without a
 * terminal), then a pre-flight. Returns an exit code to stop with, or null to go on.
 */
export async function prepareRealTarget(
  s: Scenario,
  baseUrl: string,
  keys: string[],
  headers: Record<string, string>,
  opts: RunOptions,
  io: CliIO,
  scrubber?: Scrubber,
  /** What to show before the question instead of the run's plan (`watch` shows its cost per day). */
  planText?: string,
): Promise<{ exit: number | null; warnings: string[] }> {
  io.stderr.write(planText ?? renderPlanText(s, estimatePlan(s)));
  if (!opts.yes) {
    if (!io.stdin.isTTY) {
      io.stderr.write('dsprobe: refusing to send paid traffic to a real API without confirmation: no terminal to ask on. Pass --yes to proceed.\n');
      return { exit: EXIT.RUN_FAILED, warnings: [] };
    }
    const answer = (await io.ask(`Send this traffic to ${baseUrl}? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.stderr.write('dsprobe: not confirmed; nothing was sent.\n');
      return { exit: EXIT.RUN_FAILED, warnings: [] };
    }
  }
  const pre = await runPreflight(s, baseUrl, keys, headers, io.signal, scrubber);
  for (const line of pre.lines) io.stderr.write(`pre-flight: ${line}\n`);
  if (pre.fatal) {
    throw new DsprobeError('DSP_PREFLIGHT', scrubber ? scrubber.scrub(pre.fatal) : pre.fatal, EXIT.RUN_FAILED);
  }
  return { exit: null, warnings: pre.warnings };
}

/** Writes report.json, report.html, JUnit, the step summary and the terminal summary; returns the exit code. */
export function finishRun(report: Report, s: Scenario, outDir: string, opts: RunOptions, io: CliIO): number {
  report.thresholds = evaluateThresholds(s.expect, report);
  // Atomic writes (temp file + rename): a full disk leaves the previous file or none, never a truncated one.
  writeFileAtomic(path.join(outDir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
  if (opts.html !== false) writeFileAtomic(path.join(outDir, 'report.html'), renderHtml(report));
  if (opts.junit) writeFileAtomic(path.resolve(io.cwd, opts.junit), renderJUnit(report));
  const summaryFile = io.env['GITHUB_STEP_SUMMARY'];
  if (summaryFile) appendFileChecked(path.resolve(io.cwd, summaryFile), renderMarkdownSummary(report) + '\n');

  const text = colourise(renderText(report), Boolean(opts.json ? io.stderr.isTTY : io.stdout.isTTY) && !io.env['NO_COLOR']);
  if (opts.json) {
    io.stderr.write(text);
    io.stdout.write(JSON.stringify({ ...renderJsonSummary(report), out_dir: shownPath(io.cwd, outDir) }, null, 2) + '\n');
  } else {
    io.stdout.write(text);
  }
  const shown = (name: string) => shownPath(io.cwd, path.join(outDir, name));
  io.stderr.write(`reports: ${shown('report.json')}${opts.html !== false ? `, ${shown('report.html')}` : ''}, ${shown('samples.ndjson')}\n`);
  return exitCodeOf(report);
}

/** Colours the plain summary for a terminal: verdicts, warnings, and each cap's status. */
export function colourise(text: string, on: boolean): string {
  if (!on) return text;
  const c = new Chalk({ level: 1 });
  return text
    .split('\n')
    .map((line) => {
      if (/^\s+PASS\s/.test(line)) return line.replace('PASS', c.green('PASS'));
      if (/^\s+FAIL\s/.test(line)) return line.replace('FAIL', c.red.bold('FAIL'));
      if (line.startsWith('warning:')) return c.yellow(line);
      if (line.startsWith('run: ')) return c.bold(line);
      return line.replace(/\s(found|not_reached|unclear)(\s|$)/, (m, st: string, end: string) =>
        ` ${st === 'found' ? c.green(st) : c.yellow(st)}${end}`,
      );
    })
    .join('\n');
}

/** The documented exit code of a finished run. */
export function exitCodeOf(report: Report): number {
  if (report.status === 'interrupted') return EXIT.INTERRUPTED;
  if (report.status === 'budget_exceeded' || report.status === 'failed') return EXIT.RUN_FAILED;
  if (report.status === 'aborted_by_threshold' || report.thresholds.some((t) => !t.passed)) return EXIT.THRESHOLDS_FAILED;
  return EXIT.OK;
}

/**
 * `DSPROBE_TEST_CLIENT_LAG_LIMIT_MS` (tests only, undocumented for users): the loop-delay limit over which a level is
 * client-bound, instead of 20 ms. The test suite runs the 2,500-stream search on two shared cores, where dsprobe is
 * honestly client-bound; the test is about the search's path, not the client's health.
 */
export function testLagLimit(env: Readonly<Record<string, string | undefined>>): { clientLagLimitMs?: number } {
  const v = Number(env['DSPROBE_TEST_CLIENT_LAG_LIMIT_MS']);
  return env['DSPROBE_TEST_CLIENT_LAG_LIMIT_MS'] && Number.isFinite(v) && v > 0 ? { clientLagLimitMs: v } : {};
}

/**
 * `DSPROBE_TEST_PROC_STAT` (tests only, undocumented for users): a file read in place of /proc/stat for the host's
 * CPU steal, so a test can say how much the host took.
 */
export function testHostCpu(env: Readonly<Record<string, string | undefined>>): { hostCpu?: HostCpuReader } {
  const p = env['DSPROBE_TEST_PROC_STAT'];
  return p ? { hostCpu: procStatReader(p) } : {};
}
