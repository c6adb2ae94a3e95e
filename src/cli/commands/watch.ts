/**
 * `dsprobe watch FILE`: probes each model's cap every interval with cheap probes, each search starting from the
 * last estimate (warm start), and keeps a time series: watch.ndjson (one line per probe and model), watch.html
 * (re-rendered after every probe) and live metrics (--metrics: served to Prometheus; --otlp: pushed over OTLP).
 * Thresholds are checked after every probe (--exit-on-fail: exit 99 at the first failure). Ctrl-C writes
 * everything and exits 130.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './types.js';
import type { CliIO } from '../io.js';
import { EXIT, usageError } from '../../errors.js';
import { readScenario, redactScenario, expandHeaders, headerSecrets } from '../../scenario/index.js';
import { makeScrubber } from '../../secrets.js';
import { scrubbedIO } from '../io.js';
import { formatDuration } from '../../scenario/duration.js';
import { durationOption } from '../duration-option.js';
import type { Scenario } from '../../scenario/types.js';
import { monotonicClock } from '../../time/clock.js';
import { seededRandom } from '../../time/random.js';
import { runScenario } from '../../run/runner.js';
import { startLoopMonitor } from '../../run/loop.js';
import { buildReport, type BuildContext } from '../../report/build.js';
import { createProber } from '../../transport/prober.js';
import { startMock, type MockHandle } from '../../mock/index.js';
import { evaluateThresholds } from '../../measure/thresholds.js';
import { estimateCheap } from '../../plan/cheap-cost.js';
import { formatUsd } from '../../cost/cost.js';
import { LiveMetrics } from '../../report/metrics.js';
import { projectedUsdPerDay, warmStarts, watchRecords, type WatchRecord } from '../../report/watch.js';
import { renderWatchHtml } from '../../report/html-watch.js';
import { startMetricsServer, type MetricsServer } from '../metrics-server.js';
import { metricsFeed } from '../live-metrics.js';
import { otlpHeaderSecrets, otlpShownUrl, parseOtlpOptions } from '../otlp-options.js';
import type { OtlpPush } from '../otlp-push.js';
import { applyCheap, prepareRealTarget, resolveKeys, testLagLimit, testHostCpu } from './run-support.js';
import { steadyHeap } from '../heap-guard.js';

/** Options of `dsprobe watch`. */
interface WatchOptions {
  every: string;
  for?: string;
  metrics?: string;
  otlp?: string;
  otlpInterval?: string;
  out?: string;
  exitOnFail?: boolean;
  yes?: boolean;
  quiet?: boolean;
}

export const watchCommand: CliCommand = {
  name: 'watch',
  register(program: Command, io: CliIO, setExit) {
    program
      .command('watch')
      .description("probe each model's cap every interval with cheap probes; write watch.ndjson and watch.html; serve metrics")
      .argument('<scenario>', 'scenario YAML file (search mode)')
      .option('--every <duration>', 'time between probe starts', '5m')
      .option('--for <duration>', 'stop after this long (default: until Ctrl-C)')
      .option('--metrics <host:port>', 'serve live Prometheus metrics at http://HOST:PORT/metrics')
      .option('--otlp <url>', 'push the live metrics over OTLP/HTTP to this metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics')
      .option('--otlp-interval <duration>', 'time between OTLP pushes (default 10s; also one after every probe)')
      .option('-o, --out <dir>', 'output directory (default reports/<name>-watch-<timestamp>/)')
      .option('--exit-on-fail', 'exit 99 as soon as a threshold fails after a probe')
      .option('-y, --yes', 'do not ask before probing a real (paid) API')
      .option('-q, --quiet', 'no per-probe lines on stderr')
      .action(async (file: string, opts: WatchOptions) => {
        setExit(await watchAction(file, opts, io));
      });
  },
};

const durationOpt = (name: string, text: string) => durationOption(name, text, 'e.g. --every 5m --for 24h');

/** The scenario's `need:` per model, when it has one (in flight): drawn as a line in watch.html. */
function needOf(s: Scenario): Record<string, number> {
  const raw = (s as unknown as { need?: unknown }).need;
  const out: Record<string, number> = {};
  if (raw && typeof raw === 'object') {
    for (const [m, v] of Object.entries(raw as Record<string, unknown>)) {
      const n = typeof v === 'number' ? v : typeof v === 'object' && v ? (v as Record<string, unknown>)['inflight'] : undefined;
      if (typeof n === 'number' && Number.isFinite(n)) out[m] = n;
    }
  }
  return out;
}

async function watchAction(file: string, opts: WatchOptions, io: CliIO): Promise<number> {
  const everyMs = durationOpt('--every', opts.every);
  const forMs = opts.for === undefined ? Infinity : durationOpt('--for', opts.for);
  const otlp = parseOtlpOptions(opts.otlp, opts.otlpInterval, io.env);
  // The OpenTelemetry SDK is loaded only when asked for (it costs every other command startup time).
  const otlpPush = otlp ? await import('../otlp-push.js') : null;
  const scenario = await readScenario(path.isAbsolute(file) ? file : path.resolve(io.cwd, file), { env: io.env });
  // A watch runs for hours: its memory must not breathe with the machine's load.
  steadyHeap();
  applyCheap(scenario);
  const keys = resolveKeys(scenario, io.env);
  const headers = expandHeaders(scenario.target.headers, io.env);
  // Every configured secret is scrubbed from whatever watch prints or writes (server text included).
  const scrubber = makeScrubber([...keys.filter((k) => k !== 'dsprobe-mock-key'), ...headerSecrets(scenario.target.headers, io.env), ...(otlp ? otlpHeaderSecrets(io.env) : [])]);
  if (scrubber.size > 0) io = scrubbedIO(io, scrubber.scrub);
  if (headers.missing.length) throw usageError(`header value(s) name unset environment variable(s): ${headers.missing.join(', ')}`);
  for (const w of scenario.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
  const isMock = scenario.target.url === 'mock';

  const outDir = path.resolve(io.cwd, opts.out ?? path.join('reports', `${scenario.name}-watch-${new Date().toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z')}`));
  try {
    fs.mkdirSync(outDir, { recursive: true });
    fs.accessSync(outDir, fs.constants.W_OK);
  } catch (err) {
    throw usageError(`cannot write the output directory ${outDir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, [
      { path: '--out', message: 'expected a directory dsprobe can create and write', hint: 'pass --out DIR with a writable path' },
    ]);
  }

  // The cost of a day of probes, from the cold cheap search (warm probes cost less).
  // With the built-in mock, its configured caps stand in for the documented ones.
  const mockCaps = isMock ? (scenario.mock?.['caps'] as Record<string, number> | undefined) : undefined;
  const perProbe = estimateCheap(scenario, mockCaps ? { caps: mockCaps } : {}).search.usd;
  const perDay = projectedUsdPerDay(perProbe, everyMs);
  const costLine = `watch: a probe every ${formatDuration(everyMs)}, about ${formatUsd(perProbe)} per cold probe (warm ones cost less): about ${formatUsd(perDay)} per day\n`;

  let mock: MockHandle | null = null;
  let baseUrl: string;
  if (isMock) {
    const cfg = { ...(scenario.mock ?? {}), seed: (scenario.mock?.['seed'] as number | undefined) ?? scenario.seed };
    mock = await startMock(cfg, { isolate: true });
    baseUrl = scenario.target.protocol === 'anthropic' ? `${mock.url}/anthropic` : mock.url;
    if (!opts.quiet) io.stderr.write(costLine);
  } else {
    baseUrl = scenario.target.url.replace(/\/+$/, '');
    // One confirmation for the whole watch, with the projected cost per day (the run's confirmation code).
    const pre = await prepareRealTarget(scenario, baseUrl, keys, headers.headers, { yes: Boolean(opts.yes) }, io, scrubber, costLine);
    if (pre.exit !== null) return pre.exit;
  }

  const clock = monotonicClock();
  const prober = createProber({ baseUrl, protocol: scenario.target.protocol, headers: headers.headers, clock, maxBody: scenario.request.max_body, scrubber });
  const loop = startLoopMonitor();
  const live = opts.metrics || otlp ? new LiveMetrics() : null;
  let metricsServer: MetricsServer | null = null;
  let push: OtlpPush | null = null;
  const ndjson = path.join(outDir, 'watch.ndjson');
  const html = path.join(outDir, 'watch.html');
  const records: WatchRecord[] = [];
  const target = { url: isMock ? 'mock' : baseUrl, protocol: scenario.target.protocol, mock: isMock, keys: keys.length };
  const redacted = redactScenario(scenario);
  const page = { name: scenario.name, target: target.url, every: formatDuration(everyMs), need: needOf(scenario), failing: [] as string[] };
  const endUs = clock.nowUs() + forMs * 1000;
  let exit: number = EXIT.OK;
  try {
    if (live && opts.metrics) {
      metricsServer = await startMetricsServer(opts.metrics, live);
      io.stderr.write(`metrics: ${metricsServer.url}\n`);
    }
    if (live && otlp && otlpPush) {
      push = otlpPush.startOtlpPush(otlp, live, io.env, (line) => io.stderr.write(`warning: ${line}\n`));
      io.stderr.write(`otlp: ${otlpShownUrl(otlp.url)} every ${formatDuration(otlp.intervalMs)} and after every probe\n`);
    }
    fs.writeFileSync(ndjson, '');
    fs.writeFileSync(html, renderWatchHtml(records, page));
    let last: WatchRecord[] = [];
    let costSoFar = 0;
    for (let probe = 1; ; probe++) {
      const startUs = clock.nowUs();
      const started = new Date();
      const warm = warmStarts(last);
      const feed = metricsFeed(live, scenario, loop, { liveCap: false, ...testHostCpu(io.env) });
      const result = await runScenario(
        scenario,
        {
          clock,
          random: seededRandom(scenario.seed + probe - 1),
          prober,
          keys,
          mock: isMock,
          signal: io.signal,
          warm,
          ...testLagLimit(io.env),
          ...testHostCpu(io.env),
          onSample: (s) => feed.onSample(s),
          onLevel: (model) => feed.onLevel(model),
        },
        (view) => feed.watch(view),
      );
      feed.stop();
      const ctx: BuildContext = {
        name: scenario.name,
        startedAt: started.toISOString(),
        seed: scenario.seed + probe - 1,
        mode: 'search',
        target,
        scenario: redacted,
        loop: loop.snapshot(),
        warnings: [],
        pricing: scenario.pricing,
      };
      const report = buildReport(ctx, result);
      // The cap gauges hold the last *finished* probe's figures (docs/watch.md): a probe cut short by Ctrl-C
      // must not replace them with its partial ones in the last scrape or the final OTLP push.
      if (result.status !== 'interrupted') feed.report(report);
      const thresholds = evaluateThresholds(scenario.expect, report);
      report.thresholds = thresholds;
      const recs = watchRecords(report, { index: probe, time: started.toISOString(), warm: new Set(Object.keys(warm)), costBeforeUsd: costSoFar, thresholds });
      costSoFar += report.cost.usd;
      records.push(...recs);
      fs.appendFileSync(ndjson, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
      page.failing = thresholds.filter((t) => !t.passed).map((t) => t.expression);
      fs.writeFileSync(html, renderWatchHtml(records, page));
      fs.writeFileSync(path.join(outDir, 'last-report.json'), JSON.stringify(report, null, 1) + '\n');
      for (const r of recs) live?.probe(r.model, r.status, started.getTime() / 1000);
      live?.thresholds(thresholds);
      // The probe's figures go out now, not at the next tick; not awaited: a slow collector never delays a probe.
      void push?.flush();
      if (!opts.quiet) {
        for (const r of recs) {
          io.stderr.write(
            `watch #${probe} ${r.time} ${r.model}: ${r.status} ${r.estimate ?? '-'} [${r.low ?? '-'}, ${r.high ?? '-'}]` +
              `${r.server_reported !== null ? ` server said ${r.server_reported}` : ''}; ${r.requests} requests; ${formatUsd(r.cost_usd)}${r.warm ? ' (warm)' : ' (cold)'}\n`,
          );
        }
      }
      for (const t of thresholds) if (!t.passed) io.stderr.write(`watch #${probe}: FAIL ${t.expression} (actual ${t.actual_text})${t.note ? ` ${t.note}` : ''}\n`);
      last = recs;
      if (result.status === 'interrupted' || io.signal.aborted) {
        exit = EXIT.INTERRUPTED;
        break;
      }
      if (result.status === 'failed' || result.status === 'budget_exceeded') {
        io.stderr.write(`dsprobe watch: probe ${probe} ${result.status}: ${result.status_reason ?? ''}\n`);
        exit = EXIT.RUN_FAILED;
        break;
      }
      if (opts.exitOnFail && page.failing.length) {
        exit = EXIT.THRESHOLDS_FAILED;
        break;
      }
      const next = startUs + everyMs * 1000;
      if (next >= endUs) break;
      await clock.sleepUntil(next, io.signal);
      if (io.signal.aborted) {
        exit = EXIT.INTERRUPTED;
        break;
      }
    }
    if (!opts.quiet) io.stderr.write(`watch: ${records.length ? records[records.length - 1]!.probe : 0} probe(s), ${formatUsd(costSoFar)}; ${ndjson}, ${html}\n`);
    return exit;
  } finally {
    loop.stop();
    await push?.close();
    await metricsServer?.close();
    await prober.close();
    await mock?.close();
  }
}
