// One contender of `npm run bench`, in a process of its own so its CPU time and event-loop delay are its own:
//   node bench/contender.js dsprobe|openai URL INFLIGHT SECONDS
// Holds INFLIGHT streaming requests open against URL (closed loop, instant refill) for SECONDS, then prints one
// JSON line: requests completed, CPU µs per request, event-loop delay p50/p99/max (ms), peak RSS.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const [kind, url, inflightArg, secondsArg] = process.argv.slice(2);
const inflight = Number(inflightArg);
const seconds = Number(secondsArg);
const body = { max_tokens: 64, stream: true };

const loop = monitorEventLoopDelay({ resolution: 10 });
let completed = 0;
let failed = 0;
let stop = false;
const cpu0 = process.cpuUsage();
const t0 = performance.now();

async function runDsprobe() {
  const { createProber } = await import('../dist/transport/prober.js');
  const { monotonicClock } = await import('../dist/run/clock.js');
  const clock = monotonicClock();
  const prober = createProber({ baseUrl: url, protocol: 'openai', clock, maxConnections: inflight + 100 });
  let id = 0;
  const one = async () => {
    while (!stop) {
      const now = clock.nowUs();
      const s = await prober.send({
        id: id++, model: 'deepseek-v4-flash', step: 0, target_inflight: inflight, inflight_at_send: inflight, key_index: 0,
        apiKey: 'bench', system: 'You are a benchmark.', prompt: 'Say something long.', max_tokens: body.max_tokens,
        stream: true, thinking: false, intended_us: now, deadline_us: now + 120_000_000,
      });
      if (s.outcome === 'ok') completed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, one));
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
// Measure the loop only while all streams are up (skip the first second of connection set-up).
setTimeout(() => loop.enable(), 1000).unref();
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
