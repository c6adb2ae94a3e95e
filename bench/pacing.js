// `npm run bench:pacing`: open-loop pacing accuracy of rate mode. The real runner sends ARRIVALS_PER_S arrivals/s
// (constant spacing, or BENCH_ARRIVAL=poisson) for BENCH_SECONDS to the mock in its own process (short requests,
// no cap), and prints actual minus intended send of every first attempt (and the arrival lag: scheduled arrival to
// the moment dsprobe handled it), p50 / p99 / max, beside dsprobe's event-loop delay. Asserts nothing. Loopback only.
//
//   npm run bench:pacing
//   ARRIVALS_PER_S=2000 BENCH_SECONDS=10 BENCH_ARRIVAL=constant npm run bench:pacing
import { startMock } from '../dist/mock/index.js';
import { parseScenario } from '../dist/scenario/index.js';
import { runScenario } from '../dist/run/runner.js';
import { createProber } from '../dist/transport/prober.js';
import { monotonicClock } from '../dist/time/clock.js';
import { seededRandom } from '../dist/time/random.js';
import { startLoopMonitor } from '../dist/run/loop.js';

const rate = Number(process.env.ARRIVALS_PER_S ?? 2000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const arrival = process.env.BENCH_ARRIVAL ?? 'constant';

const mock = await startMock(
  { caps: { 'deepseek-v4-flash': 1_000_000 }, latency: { prefill_overhead: '20ms', prefill_per_token: 0, inter_token: '5ms', jitter: 0, answer_tokens: 4, load_slowdown: 0, flush_interval: 0 } },
  { isolate: true },
);
const { scenario, problems } = parseScenario(
  `target: { url: mock }\nmodels: { deepseek-v4-flash: {} }\nrequest: { prompt_tokens: 20, max_tokens: 4, stream: true }\n` +
    `load: { mode: rate, arrival: ${arrival}, rate: ${rate}/s, duration: ${seconds}s, drain: 5s }\n`,
  'pacing.yaml',
);
if (!scenario) throw new Error(JSON.stringify(problems));
const clock = monotonicClock();
const prober = createProber({ baseUrl: mock.url, protocol: 'openai', clock });
const loop = startLoopMonitor();
const lagUs = [];
const arrivalLagUs = [];
let failed = 0;
const t0 = process.cpuUsage();
const r = await runScenario(scenario, {
  clock, random: seededRandom(1), prober, keys: ['sk-bench'], mock: true,
  onSample: (s) => {
    if (s.outcome !== 'ok') failed++;
    if (s.attempt === 1) {
      lagUs.push(s.sent_us - s.arrival_us);
      arrivalLagUs.push(s.sent_us - s.intended_us);
    }
  },
});
const cpu = process.cpuUsage(t0);
const l = loop.stop();
await prober.close();
await mock.close();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0;
};
const us = (v) => `${Math.round(v)} µs`;
const app = r.rehearsal.policies[0].models[0];
console.log(`open-loop pacing: ${arrival} arrivals at ${rate}/s for ${seconds}s (${r.rehearsal.schedule.t_us.length} arrivals), mock in its own process`);
console.log(`actual - intended send (first attempts, n=${lagUs.length}): p50 ${us(pct(lagUs, 50))}, p99 ${us(pct(lagUs, 99))}, max ${us(pct(lagUs, 100))}`);
console.log(`arrival lag (scheduled -> handled, HDR): p50 ${app.app.stats().arrival_lag_ms.p50 * 1000} µs, p99 ${app.app.stats().arrival_lag_ms.p99 * 1000} µs`);
console.log(`failed attempts: ${failed}; dsprobe loop delay p50 ${l.delay_p50_ms.toFixed(1)} ms, p99 ${l.delay_p99_ms.toFixed(1)} ms; CPU ${((cpu.user + cpu.system) / 1000 / (seconds * 1000) * 100).toFixed(0)}% of a core`);
