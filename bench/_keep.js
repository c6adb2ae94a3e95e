// dsprobe as it runs for users (the real runner, model driver and engine, every sample written to a samples.ndjson
// with a key scrubbed from it, as `dsprobe run` writes it) holding N streams against
// bench/upstream.c, in a process of its own so its CPU time is its own (worker threads included):
//   node bench/engine-contender.js PORT N SECONDS WARMUP_SECONDS WORKERS EVENTS_PER_REQUEST FIRST_MS
// Prints one JSON line over the held window after the warm-up: requests, CPU µs per request and per event,
// loop delay p99 of every thread over the window (and each worker's worst 250 ms interval, as the run's own
// sampler reads them), time-weighted achieved in-flight, TTFT minus the upstream's first-event delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createEngineProber } from '../dist/transport/workers/index.js';
import { monotonicClock } from '../dist/time/clock.js';
import { seededRandom } from '../dist/time/random.js';
import { runScenario } from '../dist/run/runner.js';
import { newHistogram, recordUs } from '../dist/measure/hist.js';
import { steadyHeap } from '../dist/cli/heap-guard.js';
import { threadMeter } from '../dist/transport/thread-meter.js';
import { openSamplesFile } from '../dist/cli/samples-file.js';
import { makeScrubber } from '../dist/secrets.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// As `dsprobe run` sets it.
steadyHeap();

const [port, n, seconds, warmup, workers, eventsPerRequest, firstMs] = process.argv.slice(2).map(Number);
const clock = monotonicClock();
// As `dsprobe run`: the key is sent, and scrubbed from every line written.
const KEY = 'sk-bench-0123456789abcdef';
const scrubber = makeScrubber([KEY]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsprobe-bench-samples-'));
const samples = openSamplesFile(path.join(dir, 'samples.ndjson'), { kind: 'dsprobe.samples/v1', name: 'bench', started_at: new Date().toISOString(), seed: 1, mode: 'ramp', target: { url: 'bench', protocol: 'openai', mock: false }, scenario: {}, models: [{ name: 'deepseek-v4-flash', weight: 1 }], pricing: {} }, { scrub: scrubber.scrub });
const prober = createEngineProber({ baseUrl: `http://127.0.0.1:${port}`, protocol: 'openai', clock, workers, maxConnections: n + 100, scrubber });
const holdMs = (warmup + seconds) * 1000;
const scenario = {
  name: 'bench', target: { url: 'bench', protocol: 'openai', api_key_env: ['BENCH'], headers: {} },
  models: [{ name: 'deepseek-v4-flash', weight: 1 }],
  request: { prompt_tokens: 8, max_tokens: 128, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 120_000 },
  load: { mode: 'ramp', start: n, max: n, hold_ms: 0, stages: [{ inflight: n, hold_ms: holdMs }], precision: 1, growth: 2, recheck: false },
  stop: {}, expect: [], budget: {}, pricing: {}, seed: 1,
};
const loop = monitorEventLoopDelay({ resolution: 10 });
// The main thread's busy share and longest GC pause over the window; each worker's from the run's own health calls.
const meter = threadMeter();
const workerBusy = [];
const workerGc = [];
const ttft = newHistogram();
let requests = 0;
let failed = 0;
let windowStartUs = Infinity;
let cpu0 = process.cpuUsage();
let area0 = 0;
let held = null;
let view = null;
const areaAt = (rec, t) => rec.achievedAt(t) * (t - rec.startUs);
// Events read inside the window. The streams run in waves (all start together), so the count of requests ended
// in the window jumps by N at a time; events arrive all along. A sample's events are taken as evenly spread from
// its first byte to its end, and counted by the part of that span inside the window (as the floor counts its own
// events live). CPU per request is then per `events / EVENTS_PER_REQUEST` requests' worth (the mean, when the
// upstream spreads stream lengths).
let eventsInWindow = 0;
let windowEndUs = Infinity;
function eventsWithin(s) {
  if (s.first_byte_us === undefined) return 0;
  // A whole answer: its text events and the upstream's two closing ones (the final chunk, [DONE]).
  const total = s.outcome === 'ok' ? (s.token_events ?? 0) + 2 : (s.token_events ?? 0);
  const a = s.first_byte_us;
  const b = Math.max(s.end_us, a + 1);
  const overlap = Math.min(b, windowEndUs) - Math.max(a, windowStartUs);
  return overlap > 0 ? (total * overlap) / (b - a) : 0;
}

// The workers' loop delay is read by the run itself (its client sampler calls prober.health() every 250 ms, and
// each call resets the workers' monitors): the bench listens to those readings rather than taking its own, which
// would leave the run's sampler, or the bench, an interval of a few ms with no sample. Per worker: the worst
// 250 ms interval's p99 within the window.
const workerP99 = [];
let inWindow = false;
const health = prober.health?.bind(prober);
if (health) {
  prober.health = async () => {
    const h = await health();
    if (inWindow) {
      for (const t of h.threads) {
        workerP99[t.thread - 1] = Math.max(workerP99[t.thread - 1] ?? 0, t.p99_ms);
        (workerBusy[t.thread - 1] ??= []).push(t.busy);
        workerGc[t.thread - 1] = Math.max(workerGc[t.thread - 1] ?? 0, t.gc_max_ms);
      }
    }
    return h;
  };
}
const startWindow = async () => {
  inWindow = true;
  const rec = view.models()[0].driver.current;
  windowStartUs = clock.nowUs();
  area0 = areaAt(rec, windowStartUs);
  cpu0 = process.cpuUsage();
  loop.enable();
  meter.read(true);
  await prober.loopSpan?.(true);
};
const endWindow = async () => {
  const rec = view.models()[0].driver.current;
  // A late timer (a lagging loop) must not read past the step's end.
  const t = Math.min(clock.nowUs(), rec.endUs ?? Infinity);
  windowEndUs = t;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const main = meter.read(true);
  // Read the in-flight integral now: the recorder moves on while the workers answer.
  const achieved = (areaAt(rec, t) - area0) / (t - windowStartUs);
  const spans = (await prober.loopSpan?.(false)) ?? [];
  inWindow = false;
  const mean = (xs) => (xs?.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  held = { busy: [main.busy, ...workerBusy.map(mean)].map((v) => +v.toFixed(2)), gc: Math.max(main.gc_max_ms, ...workerGc.map((v) => v ?? 0)), cpu: cpu.user + cpu.system, achieved, threads: spans.map((v) => +v.toFixed(1)), worst: workerP99.map((v) => +(v ?? 0).toFixed(1)) };
};

await runScenario(scenario, {
  clock, random: seededRandom(1), prober, keys: [KEY], mock: false,
  // The window is timed from the level's start (its connections are opened before it).
  onStep: () => {
    setTimeout(startWindow, warmup * 1000);
    setTimeout(endWindow, holdMs - 50);
  },
  onSample: (s) => {
    samples.write(s);
    eventsInWindow += eventsWithin(s);
    // TTFT as the floor takes it: every first token read inside the window, whenever its request ended (a request
    // that ends in the window may have had its first token in the warm-up, and one read at the window's end may
    // end after it).
    const ft = s.first_token_us;
    if (ft !== undefined && ft >= windowStartUs && ft <= windowEndUs) recordUs(ttft, Math.max(0, ft - s.sent_us - firstMs * 1000));
    if (s.end_us < windowStartUs || held) return;
    if (s.outcome !== 'ok') return void (s.outcome !== 'aborted' && failed++);
    requests++;
  },
}, (v) => (view = v));
await prober.close();
samples.close();
fs.copyFileSync(path.join(dir, 'samples.ndjson'), '/tmp/or/samples.ndjson'); fs.rmSync(dir, { recursive: true, force: true });
const ms = (ns) => +Math.max(0, (ns - 10e6) / 1e6).toFixed(1);
console.log(JSON.stringify({
  workers, inflight: n, requests, failed,
  events: Math.round(eventsInWindow),
  cpu_us_per_request: Math.round(held.cpu / Math.max(1, eventsInWindow / eventsPerRequest)),
  cpu_us_per_event: +(held.cpu / Math.max(1, eventsInWindow)).toFixed(2),
  loop_p99_ms: [ms(loop.percentile(99)), ...held.threads],
  busy: held.busy,
  gc_max_ms: +held.gc.toFixed(1),
  worker_worst_interval_p99_ms: held.worst,
  achieved_inflight: Math.round(held.achieved),
  ttft_over_schedule_p50_ms: +(ttft.getValueAtPercentile(50) / 1000).toFixed(1),
  ttft_over_schedule_p99_ms: +(ttft.getValueAtPercentile(99) / 1000).toFixed(1),
}));
process.exit(0);
