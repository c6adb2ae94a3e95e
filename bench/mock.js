// `npm run bench:mock`: how many concurrent streams the mock holds, and at what cost.
//
// Starts the mock in its own process (startMock({isolate: true})), opens streaming requests from this
// process with undici (one connection per stream), ramps to BENCH_STREAMS concurrent streams, holds them
// for BENCH_HOLD seconds, and prints: the most concurrent streams held, SSE events per second received,
// the mock's event-loop delay p99 during the hold (its own monitorEventLoopDelay, from /_mock/state), and
// the mock's memory per open stream (RSS growth from idle to the hold, divided by the streams).
//
// Knobs (environment): BENCH_STREAMS (10000), BENCH_HOLD (10 s), BENCH_RAMP_BATCH (500 streams per step),
// BENCH_ITL_MS (inter-token time, 50), BENCH_CHUNK (tokens per SSE chunk, 1 = DeepSeek's framing),
// BENCH_FLUSH_MS (least time between two writes to one stream, 250; frames stay one chunk each).
// A benchmark, not a test.
import { Pool } from 'undici';
import { startMock } from '../dist/mock/index.js';

const env = (k, d) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const STREAMS = env('BENCH_STREAMS', 10_000);
const HOLD_S = env('BENCH_HOLD', 10);
const BATCH = env('BENCH_RAMP_BATCH', 500);
const ITL_MS = env('BENCH_ITL_MS', 50);
const CHUNK = env('BENCH_CHUNK', 1);
const FLUSH_MS = env('BENCH_FLUSH_MS', 250);

const mock = await startMock(
  {
    caps: { 'deepseek-v4-flash': STREAMS * 2 },
    latency: {
      prefill_overhead: '200ms',
      prefill_per_token: 0,
      inter_token: `${ITL_MS}ms`,
      jitter: 0.1,
      load_slowdown: 0,
      // Long enough that no stream ends during the run; the bench closes them.
      answer_tokens: 1_000_000,
      chunk_tokens: CHUNK,
      flush_interval: `${FLUSH_MS}ms`,
    },
  },
  { isolate: true },
);

const idle = await mock.state({ resetLoop: true });
const pool = new Pool(mock.url, { connections: STREAMS + 100, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
const body = JSON.stringify({ model: 'deepseek-v4-flash', stream: true, messages: [{ role: 'user', content: 'Benchmark the mock.' }] });
const headers = { authorization: 'Bearer sk-bench', 'content-type': 'application/json' };

let open = 0;
let maxOpen = 0;
let failed = 0;
let frames = 0;
let bytes = 0;
const NL2 = 0x0a;

/** Counts SSE frames (blank-line terminators) without parsing JSON: the client must stay cheap. */
function onData(chunk) {
  bytes += chunk.length;
  for (let i = chunk.indexOf(NL2); i !== -1; i = chunk.indexOf(NL2, i + 1)) {
    if (chunk[i + 1] === NL2) frames++;
  }
}

async function openStream() {
  try {
    const res = await pool.request({ path: '/chat/completions', method: 'POST', body, headers });
    if (res.statusCode !== 200) {
      failed++;
      await res.body.dump();
      return;
    }
    open++;
    if (open > maxOpen) maxOpen = open;
    res.body.on('data', onData);
    res.body.on('error', () => {});
    res.body.on('close', () => open--);
  } catch {
    failed++;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
for (let started = 0; started < STREAMS; started += BATCH) {
  const n = Math.min(BATCH, STREAMS - started);
  await Promise.all(Array.from({ length: n }, openStream));
  if ((started + n) % 2000 === 0) {
    const s = await mock.state({ resetLoop: true });
    const t = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`  ${started + n} streams open after ${t} s; mock loop delay p99 ${s.event_loop.p99_ms.toFixed(1)} ms\n`);
  }
  await sleep(50);
}
const rampS = (performance.now() - t0) / 1000;
// Let every stream reach its first token before measuring the steady state.
await sleep(500);

const before = await mock.state({ resetLoop: true });
const framesBefore = frames;
const bytesBefore = bytes;
const h0 = performance.now();
let minOpenDuringHold = open;
let peakRunning = before.servers['deepseek-v4-flash'].running;
while (performance.now() - h0 < HOLD_S * 1000) {
  await sleep(1000);
  minOpenDuringHold = Math.min(minOpenDuringHold, open);
  const s = await mock.state();
  peakRunning = Math.max(peakRunning, s.servers['deepseek-v4-flash'].running);
}
const holdS = (performance.now() - h0) / 1000;
const after = await mock.state();
const eventsPerS = (frames - framesBefore) / holdS;
const mbPerS = (bytes - bytesBefore) / holdS / 1e6;
const held = after.servers['deepseek-v4-flash'].running;
const memPerStream = (after.memory.rss_bytes - idle.memory.rss_bytes) / Math.max(1, held);
const heapPerStream = (after.memory.heap_used_bytes - idle.memory.heap_used_bytes) / Math.max(1, held);

await pool.destroy();
await mock.close();

const figures = {
  target_streams: STREAMS,
  max_concurrent_streams_held: Math.max(maxOpen, peakRunning),
  streams_held_through_hold: minOpenDuringHold,
  failed_to_open: failed,
  ramp_s: +rampS.toFixed(1),
  hold_s: +holdS.toFixed(1),
  inter_token_ms: ITL_MS,
  chunk_tokens: CHUNK,
  flush_interval_ms: FLUSH_MS,
  sse_events_per_s: Math.round(eventsPerS),
  tokens_per_s: Math.round(eventsPerS * CHUNK),
  mb_per_s: +mbPerS.toFixed(1),
  mock_event_loop_delay_ms: {
    p50: +after.event_loop.p50_ms.toFixed(2),
    p99: +after.event_loop.p99_ms.toFixed(2),
    max: +after.event_loop.max_ms.toFixed(2),
  },
  mock_rss_mb: +(after.memory.rss_bytes / 1e6).toFixed(1),
  mock_memory_per_stream_kb: +(memPerStream / 1024).toFixed(1),
  mock_heap_per_stream_kb: +(heapPerStream / 1024).toFixed(2),
};

const row = (k, v) => console.log(`${k.padEnd(38)} ${v}`);
console.log('dsprobe mock benchmark');
row('most concurrent streams held', `${figures.max_concurrent_streams_held} (target ${STREAMS}; ${failed} failed to open)`);
row('streams open through the whole hold', figures.streams_held_through_hold);
row('SSE events per second (received)', `${figures.sse_events_per_s} (${CHUNK} token(s) each, ${ITL_MS} ms apart, flushed every ${FLUSH_MS} ms; ${figures.mb_per_s} MB/s)`);
row('mock event-loop delay during hold', `p50 ${figures.mock_event_loop_delay_ms.p50} ms, p99 ${figures.mock_event_loop_delay_ms.p99} ms, max ${figures.mock_event_loop_delay_ms.max} ms`);
row('mock memory per open stream', `${figures.mock_memory_per_stream_kb} KiB RSS (${figures.mock_heap_per_stream_kb} KiB JS heap)`);
row('mock RSS', `${figures.mock_rss_mb} MB`);
console.log(JSON.stringify(figures));
const pass = figures.max_concurrent_streams_held >= STREAMS && figures.mock_event_loop_delay_ms.p99 < 50;
console.log(pass ? 'target met: >= 10,000 streams with event-loop delay p99 < 50 ms' : 'target NOT met');
process.exitCode = 0;
