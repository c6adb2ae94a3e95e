/**
 * `dsprobe run FILE`: the main job. Reads the scenario, starts the mock when asked, runs the ramp or the cap
 * search, streams samples.ndjson, and writes report.json + report.html + the terminal summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { readScenario, redactScenario, expandHeaders, headerSecrets } from '../../scenario/index.js';
import { EXIT, usageError } from '../../errors.js';
import { monotonicClock } from '../../time/clock.js';
import { seededRandom } from '../../time/random.js';
import { runScenario, type RunView, type RunControl } from '../../run/runner.js';
import { startLoopMonitor } from '../../run/loop.js';
import { buildReport, type BuildContext, type SamplesHeader } from '../../report/build.js';
import { renderText } from '../../report/text.js';
import { openSamplesFile } from '../samples-file.js';
import { startProgress } from '../progress.js';
import { fdWarning } from '../fd-limit.js';
import { createEngineProber } from '../../transport/workers/index.js';
import { availableParallelism } from 'node:os';
import { startMock, type MockHandle } from '../../mock/index.js';
import { evaluateThresholds } from '../../measure/thresholds.js';
import { makeScrubber } from '../../secrets.js';
import { scrubbedIO } from '../io.js';
import { checkOutputFile, writeError, writeFailureMessage } from '../files.js';
import { startHeapGuard, steadyHeap, testHeapShare } from '../heap-guard.js';
import { LiveMetrics } from '../../report/metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics-server.js';
import { metricsFeed } from '../live-metrics.js';
import { otlpHeaderSecrets, otlpShownUrl, parseOtlpOptions } from '../otlp-options.js';
import { formatDuration } from '../../time/duration.js';
import type { OtlpPush } from '../otlp-push.js';
import { applyCheap, addExpectations, finishRun, resolveKeys, prepareRealTarget, resolveWorkers, testLagLimit, testHostCpu, type RunOptions } from './run-support.js';
import { SeriesRecorder } from '../../measure/series.js';
import { addOverrideOptions, collect, overridesOf, type OverrideOptions } from '../overrides.js';
import { checkOutputs, makeOutputDir, type OutputPath } from '../outputs.js';
import { reportPath, shownPath } from '../paths.js';

export const runCommand: CliCommand = {
  name: 'run',
  register(program: Command, io: CliIO, setExit) {
    const cmd = program
      .command('run')
      .description('run a scenario: ramp in-flight requests or search for each model\'s cap; write reports')
      .argument('<scenario>', 'scenario YAML file')
      .option('-o, --out <dir>', 'output directory (default reports/<name>-<timestamp>/)')
      .option('--overwrite', 'write into an --out directory that already holds files')
      .option('-e, --expect <expr>', 'a threshold to check, e.g. "cap(deepseek-v4-flash) >= 2000" (repeatable)', collect)
      .option('--junit <file>', 'write JUnit XML, one test case per threshold')
      .option('--json', 'print a JSON summary on stdout (progress and tables go to stderr)')
      .option('-y, --yes', 'do not ask before sending traffic to a real (paid) API')
      .option('-q, --quiet', 'no progress display')
      .option('--no-html', 'do not write report.html')
      .option('--metrics <host:port>', 'serve live Prometheus metrics at http://HOST:PORT/metrics while the run lasts')
      .option('--otlp <url>', 'push the live metrics over OTLP/HTTP to this metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics')
      .option('--otlp-interval <duration>', 'time between OTLP pushes (default 10s; a last push at the end)')
      .option('--cheap', 'cheap probes for the cap search (probe: cheap): few-token prompts, cut when each level is decided')
      .option('-w, --workers <n>', 'threads that send and read requests: a count or `auto` (cores minus one; overrides engine.workers)');
    addOverrideOptions(cmd)
      .action(async (file: string, opts: RunOptions & OverrideOptions) => {
        setExit(await runAction(file, opts, io));
      });
  },
};

async function runAction(file: string, opts: RunOptions & OverrideOptions, rawIo: CliIO): Promise<number> {
  let io = rawIo;
  // Problems name the file relative to the working directory; the report holds no absolute path.
  const overrides = overridesOf(opts);
  const otlp = parseOtlpOptions(opts.otlp, opts.otlpInterval, io.env);
  // The OpenTelemetry SDK is loaded only when asked for (it costs every other command startup time).
  const otlpPush = otlp ? await import('../otlp-push.js') : null;
  const scenario = await readScenario(path.resolve(io.cwd, file), { env: io.env, shownAs: shownPath(io.cwd, file), ...(overrides ? { overrides } : {}) });
  scenario.file = reportPath(io.cwd, file);
  addExpectations(scenario, opts.expect ?? []);
  if (opts.cheap) applyCheap(scenario);
  const keys = resolveKeys(scenario, io.env);
  const workers = resolveWorkers(scenario, opts.workers, availableParallelism());
  const headers = expandHeaders(scenario.target.headers, io.env);
  if (headers.missing.length) {
    throw usageError(`header value(s) name unset environment variable(s): ${headers.missing.join(', ')}`);
  }
  // Every configured secret is scrubbed from everything printed or written from here on (server text too).
  const scrubber = makeScrubber([...keys.filter((k) => k !== 'dsprobe-mock-key'), ...headerSecrets(scenario.target.headers, io.env), ...(otlp ? otlpHeaderSecrets(io.env) : [])]);
  if (scrubber.size > 0) io = scrubbedIO(io, scrubber.scrub);
  const isMock = scenario.target.url === 'mock';
  const warnings: string[] = [...(scenario.warnings ?? [])];
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);

  // Every output first: a run whose results could not be written must not start. Nothing is created yet.
  const outDir = path.resolve(io.cwd, opts.out ?? path.join('reports', `${slug(scenario.name)}-${stamp(new Date())}`));
  const outputs: OutputPath[] = [{ flag: '--out', path: outDir, kind: 'dir' }];
  if (opts.junit) outputs.push({ flag: '--junit', path: path.resolve(io.cwd, opts.junit), kind: 'file' });
  const outProblems = checkOutputs(outputs, { overwrite: Boolean(opts.overwrite), shown: (p) => shownPath(io.cwd, p) });
  if (outProblems.length) throw usageError(`cannot write ${outProblems.length} output(s); nothing was sent`, outProblems);
  const summaryFile = io.env['GITHUB_STEP_SUMMARY'];
  if (summaryFile) checkOutputFile(path.resolve(io.cwd, summaryFile), 'GITHUB_STEP_SUMMARY', false);

  // Set once the run starts; a dying mock or a failed write stops the run through it.
  let control: RunControl | null = null;
  let mock: MockHandle | null = null;
  let baseUrl: string;
  if (isMock) {
    const cfg = { ...(scenario.mock ?? {}), seed: (scenario.mock?.['seed'] as number | undefined) ?? scenario.seed };
    mock = await startMock(cfg, { isolate: true });
    mock.onExit?.((code) => control?.stop('failed', `the built-in mock exited during the run (code ${code ?? 'signal'})`));
    baseUrl = scenario.target.protocol === 'anthropic' ? `${mock.url}/anthropic` : mock.url;
  } else {
    baseUrl = scenario.target.url.replace(/\/+$/, '');
    const pre = await prepareRealTarget(scenario, baseUrl, keys, headers.headers, opts, io, scrubber);
    if (pre.exit !== null) return pre.exit;
    warnings.push(...pre.warnings);
  }

  const started = new Date();
  const target = { url: isMock ? 'mock' : baseUrl, protocol: scenario.target.protocol, mock: isMock, keys: keys.length };
  const redacted = redactScenario(scenario);
  const header: SamplesHeader = {
    kind: 'dsprobe.samples/v1',
    name: scenario.name,
    started_at: started.toISOString(),
    seed: scenario.seed,
    mode: scenario.load.mode,
    target,
    scenario: redacted,
    models: scenario.models.map((m) => ({ name: m.name, weight: m.weight })),
    pricing: scenario.pricing,
  };
  // The folder is made only now, after the confirmation and the pre-flight: a refused run leaves none behind.
  makeOutputDir(outDir);
  const samplesPath = path.join(outDir, 'samples.ndjson');
  // A failed write stops the run as failed (exit 3); the report names the file without its local folder.
  const samples = openSamplesFile(samplesPath, header, {
    scrub: scrubber.size > 0 ? scrubber.scrub : undefined,
    onError: (err) => control?.stop('failed', writeFailureMessage('samples.ndjson', err)),
  });
  if (samples.failed !== undefined) {
    await mock?.close();
    throw writeError(samplesPath, samples.failed);
  }
  const clock = monotonicClock();
  const prober = createEngineProber({ baseUrl, protocol: scenario.target.protocol, headers: headers.headers, clock, maxBody: scenario.request.max_body, scrubber, workers });
  const loop = startLoopMonitor();
  let progress: { stop(): void } | null = null;
  let lastView: RunView | null = null;
  const maxLevel = Math.max(scenario.load.max, ...scenario.models.map((m) => m.max ?? 0));
  const fdWarn = fdWarning(maxLevel * scenario.models.length);
  if (fdWarn) {
    warnings.push(fdWarn);
    io.stderr.write(`warning: ${fdWarn}\n`);
  }
  const abortOnFail = scenario.expect.filter((e) => e.abort_on_fail);
  steadyHeap();
  const stopHeapGuard = startHeapGuard(
    (why) => {
      samples.flush();
      control?.stop('failed', why);
    },
    500,
    testHeapShare(io.env),
  );
  let metricsServer: MetricsServer | null = null;
  const live = opts.metrics || otlp ? new LiveMetrics() : null;
  const feed = metricsFeed(live, scenario, loop, testHostCpu(io.env));
  if (live && opts.metrics) {
    metricsServer = await startMetricsServer(opts.metrics, live).catch(async (err: unknown) => {
      await prober.close();
      await mock?.close();
      samples.close();
      throw err;
    });
    io.stderr.write(`metrics: ${metricsServer.url}\n`);
  }
  let push: OtlpPush | null = null;
  if (live && otlp && otlpPush) {
    push = otlpPush.startOtlpPush(otlp, live, io.env, (line) => io.stderr.write(`warning: ${line}\n`));
    io.stderr.write(`otlp: ${otlpShownUrl(otlp.url)} every ${formatDuration(otlp.intervalMs)}\n`);
  }
  const series = new SeriesRecorder();

  try {
    const result = await runScenario(
      scenario,
      {
        clock,
        random: seededRandom(scenario.seed),
        prober,
        keys,
        mock: isMock,
        signal: io.signal,
        // For tests only: a run whose subject is not dsprobe's own health on a shared machine moves the limit.
        ...testLagLimit(io.env),
        ...testHostCpu(io.env),
        onSample: (s) => {
          samples.write(s);
          feed.onSample(s);
          series.add(s);
        },
        onStep: (model, step, target, t_us) => samples.record({ kind: 'step', model, step, target, t_us }),
        onLevel: (model) => {
          feed.onLevel(model);
          if (!abortOnFail.length || !control || !lastView) return;
          // abort_on_fail thresholds are checked after every decided level on the partial report.
          const partial = buildReport(ctxOf(loop.snapshot()), snapshotResult(lastView));
          // ok() only grows during a run: it is judged at the end, never mid-run.
          const failed = evaluateThresholds(abortOnFail, partial).filter((t) => !t.passed && t.actual !== null && !/^\s*ok\s*\(/.test(t.expression));
          if (failed.length) control.stop('aborted_by_threshold', `threshold failed: ${failed[0]?.expression}`);
        },
      },
      (view, ctl) => {
        lastView = view;
        control = ctl;
        feed.watch(view);
        progress = startProgress(view, io, loop, { quiet: Boolean(opts.quiet), maxLevel });
      },
    );
    (progress as { stop(): void } | null)?.stop();
    // Why each level ended (calibration, measure, decided_...): a rebuild from the samples recovers the labels.
    for (const m of result.models) for (const st of m.driver.steps) samples.record({ kind: 'step_end', model: m.spec.name, step: st.index, ended_by: st.endedBy });
    samples.close();
    // The mock's own billing, when it is still there to ask (a mock that died mid-run is in the report instead).
    if (mock) {
      const line = await mockBillingLine(mock).catch(() => null);
      if (line) io.stderr.write(`${line}\n`);
    }
    const report = scrubber.scrubValue(buildReport(ctxOf(loop.stop()), result));
    feed.report(report);
    const code = finishRun(report, scenario, outDir, opts, io);
    if (samples.failed !== undefined) {
      io.stderr.write(`dsprobe: ${writeFailureMessage(samplesPath, samples.failed)}\n`);
      return EXIT.RUN_FAILED;
    }
    return code;
  } catch (err) {
    (progress as { stop(): void } | null)?.stop();
    samples.close();
    throw err;
  } finally {
    stopHeapGuard();
    feed.stop();
    // The last push carries the final figures (feed.report above), Ctrl-C (exit 130) included; bounded.
    await push?.close();
    await metricsServer?.close();
    await prober.close();
    await mock?.close();
  }

  function ctxOf(l: ReturnType<typeof loop.snapshot>): BuildContext {
    return {
      name: scenario.name,
      startedAt: started.toISOString(),
      seed: scenario.seed,
      mode: scenario.load.mode,
      target,
      scenario: redacted,
      loop: l,
      warnings,
      pricing: scenario.pricing,
      expect: scenario.expect,
      series: series.result(scenario.models.map((m) => m.name)),
    };
  }
}


/**
 * The built-in mock's own bill (its ground truth: prompt plus output streamed before each end or cut, at
 * DeepSeek's prices), read once every request is over, so a cheap probe's cost can be checked against it.
 */
export async function mockBillingLine(mock: MockHandle): Promise<string> {
  let usd = 0;
  let requests = 0;
  for (const models of Object.values((await mock.state()).billing ?? {})) {
    for (const u of Object.values(models)) {
      usd += u.usd;
      requests += u.requests;
    }
  }
  return `mock billing (ground truth, no real money): $${usd.toFixed(6)} for ${requests} admitted requests`;
}

/** A RunResult-shaped snapshot of a live run (for abort_on_fail checks mid-run). */
function snapshotResult(v: RunView): Parameters<typeof buildReport>[1] {
  const models = v.models();
  const now = v.nowUs();
  return { models, timeline: [], status: 'completed', status_reason: null, start_us: 0, end_us: now, tokens: { prompt: 0, completion: 0, cache_hit: 0, cache_miss: 0, reasoning: 0 }, usd: v.usd(), requests: 0 };
}

function slug(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
}
