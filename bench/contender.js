// One contender of `npm run bench`, in a process of its own so its CPU time and event-loop delay are its own:
//   node bench/contender.js dsprobe|openai URL INFLIGHT SECONDS
// Holds INFLIGHT streaming requests open against URL (closed loop, instant refill) for SECONDS, then prints one
// JSON line: requests completed, CPU µs per request, event-loop delay p50/p99/max (ms), peak RSS.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const [kind, url, inflightArg, secondsArg] = process.argv.slice(2);
const inflight = Number(inflightArg);
const seconds = Number(secondsArg);
const body = { max_tokens: 128, stream: true };

const loop = monitorEventLoopDelay({ resolution: 10 });
let completed = 0;
let failed = 0;
let stop = false;
const cpu0 = process.cpuUsage();
const t0 = performance.now();

// dsprobe as it runs for users: the real runner and model driver holding one ramp stage of `inflight`.
async function runDsprobe() {
  const { createProber } = await import('../dist/transport/prober.js');
  const { monotonicClock } = await import('../dist/time/clock.js');
  const { seededRandom } = await import('../dist/time/random.js');
  const { runScenario } = await import('../dist/run/runner.js');
  const clock = monotonicClock();
  const prober = createProber({ baseUrl: url, protocol: 'openai', clock, maxConnections: inflight + 100 });
  const scenario = {
    name: 'bench', target: { url, protocol: 'openai', api_key_env: ['BENCH'], headers: {} },
    models: [{ name: 'deepseek-v4-flash', weight: 1 }],
    request: { prompt_tokens: 8, max_tokens: body.max_tokens, stream: true, system_prefix_tokens: 0, thinking: false, user_id: { strategy: 'none' }, timeout_ms: 120_000 },
    load: { mode: 'ramp', start: inflight, max: inflight, hold_ms: seconds * 1000, stages: [{ inflight, hold_ms: seconds * 1000 }], precision: 1, growth: 2, recheck: false },
    stop: {}, expect: [], budget: {}, pricing: {}, seed: 1,
  };
  // No drain at the end: the figures cover the held stage.
  scenario.load.hold_ms = 0;
  scenario.load.stages[0].hold_ms = seconds * 1000;
  await runScenario(scenario, {
    clock, random: seededRandom(1), prober, keys: ['bench'], mock: false,
    onSample: (s) => {
      if (s.outcome === 'ok') completed++;
      else if (s.outcome !== 'aborted') failed++;
    },
  });
  await prober.close();
}

async function runOpenai() {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: url, apiKey: 'bench', maxRetries: 0, timeout: 120_000 });
  const one = async () => {
    while (!stop) {
      try {
        const stream = await client.chat.completions.create({
          model: 'deepseek-v4-flash', stream: true, max_tokens: body.max_tokens,
          messages: [{ role: 'system', content: 'You are a benchmark.' }, { role: 'user', content: 'Say something long.' }],
        });
        for await (const chunk of stream) void chunk;
        completed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, one));
}

setTimeout(() => {
  stop = true;
}, seconds * 1000).unref();
// Measure the loop in steady state only: skip the first 3 s (connection set-up and the first wave of requests).
setTimeout(() => loop.enable(), 3000).unref();
await (kind === 'openai' ? runOpenai() : runDsprobe());
const cpu = process.cpuUsage(cpu0);
loop.disable();
const ms = (ns) => Math.max(0, (ns - 10e6) / 1e6);
console.log(
  JSON.stringify({
    kind,
    inflight,
    seconds: (performance.now() - t0) / 1000,
    completed,
    failed,
    cpu_us_per_request: Math.round((cpu.user + cpu.system) / Math.max(1, completed)),
    loop_p50_ms: +ms(loop.percentile(50)).toFixed(1),
    loop_p99_ms: +ms(loop.percentile(99)).toFixed(1),
    loop_max_ms: +ms(loop.max).toFixed(1),
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
process.exit(0);
