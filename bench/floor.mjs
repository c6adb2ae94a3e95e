// The floor for a Node client, in `npm run bench`: raw `net` sockets, HTTP/1.1 keep-alive, N requests held in
// flight for D seconds against bench/upstream.c; the end of a response is its terminating chunk and events are
// counted by scanning for `data:` (no HTTP parser, no JSON; one timestamp at the send and one at the first event,
// for the TTFT a minimal client sees). Whatever a real client does on top of this is its own overhead.
//   node bench/floor.mjs PORT N SECONDS WARMUP_SECONDS [EVENTS_PER_REQUEST] [FIRST_MS] [onread|data] [SPIN_US]
// With `onread` the sockets read into one shared buffer (Node's `onread` option, as dsprobe's load sockets do on
// plain TCP) instead of emitting a fresh Buffer per read through the stream machinery: the floor for that way of
// reading. Without it, the floor is the one issue 11 measured against (`data` events).
// With SPIN_US the floor spins that many µs at every response's end, inline, before it sends the next request: a
// stand-in for a real client's work per request (parse the end, build and record the sample, launch the next), to
// measure how much of it a case affords before its TTFT tail moves (docs/benchmarks.md has the figures).
// Prints one JSON line: requests, events, CPU µs per request and per event, loop delay p99 (after the warm-up), and
// with FIRST_MS the time to the first event minus the upstream's schedule (p50 / p99 ms).
// With EVENTS_PER_REQUEST, CPU per request is per `events / EVENTS_PER_REQUEST` requests' worth of events: the
// streams run in waves (all start together), so a count of requests completed in the window jumps by N at a time,
// while events arrive all along.
import net from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const [port, n, seconds, warmup, eventsPerRequest, firstMs] = process.argv.slice(2, 8).map(Number);
const shared = process.argv[8] === 'onread' ? Buffer.allocUnsafe(64 * 1024) : null;
const spinMs = Number(process.argv[9] ?? 0) / 1000;
const ttfts = [];
const payload = JSON.stringify({ model: 'deepseek-v4-flash', stream: true, max_tokens: 128, messages: [{ role: 'user', content: 'x' }] });
const request = Buffer.from(
  `POST /chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
);
const LAST = Buffer.from('0\r\n\r\n');
const loop = monitorEventLoopDelay({ resolution: 10 });
// How busy the loop was and the longest GC pause, over the window (as dsprobe's bench contender reads its own).
let elu0 = null;
let gcMax = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) if (elu0 && e.duration > gcMax) gcMax = e.duration;
}).observe({ entryTypes: ['gc'] });
let counting = false;
let requests = 0;
let events = 0;
let cpu0 = process.cpuUsage();
let t0 = 0;
const endAt = performance.now() + (seconds + warmup) * 1000;

/** Counts `data:` at every `d` of the chunk (events never straddle chunks here: each is written whole). */
function countEvents(b) {
  let k = 0;
  for (let i = b.indexOf(100); i !== -1; i = b.indexOf(100, i + 1)) {
    if (b[i + 1] === 97 && b[i + 2] === 116 && b[i + 3] === 97 && b[i + 4] === 58) k++;
  }
  return k;
}

function stream() {
  return new Promise((resolve) => {
    const s = shared
      ? net.connect({ port, host: '127.0.0.1', onread: { buffer: shared, callback: (nread, buf) => void onData(buf.subarray(0, nread)) } })
      : net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let sentAt = 0;
    let first = true;
    const next = () => {
      if (performance.now() >= endAt) return s.end();
      sentAt = performance.now();
      first = true;
      s.write(request);
    };
    s.on('connect', next);
    const onData = (b) => {
      const k = countEvents(b);
      if (first && k > 0) {
        first = false;
        if (counting) ttfts.push(performance.now() - sentAt);
      }
      if (counting) events += k;
      if (b.length >= 5 && b.compare(LAST, 0, 5, b.length - 5) === 0) {
        if (counting) requests++;
        if (spinMs > 0) for (const until = performance.now() + spinMs; performance.now() < until; );
        next();
      }
    };
    if (!shared) s.on('data', onData);
    s.on('error', () => undefined);
    s.on('close', resolve);
  });
}

function ttftOverSchedule() {
  const v = ttfts.map((t) => Math.max(0, t - firstMs)).sort((a, b) => a - b);
  const at = (p) => +(v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? 0).toFixed(1);
  return { ttft_over_schedule_p50_ms: at(50), ttft_over_schedule_p99_ms: at(99) };
}

setTimeout(() => {
  counting = true;
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  loop.enable();
  elu0 = performance.eventLoopUtilization();
}, warmup * 1000);
await Promise.all(Array.from({ length: n }, stream));
const c = process.cpuUsage(cpu0);
const us = c.user + c.system;
loop.disable();
const busy = performance.eventLoopUtilization(elu0).utilization;
console.log(
  JSON.stringify({
    requests,
    events,
    seconds: +((performance.now() - t0) / 1000).toFixed(2),
    cpu_us_per_request: Math.round(us / Math.max(1, eventsPerRequest > 0 ? events / eventsPerRequest : requests)),
    cpu_us_per_event: +(us / Math.max(1, events)).toFixed(2),
    loop_p99_ms: +Math.max(0, (loop.percentile(99) - 10e6) / 1e6).toFixed(1),
    busy: [+busy.toFixed(2)],
    gc_max_ms: +gcMax.toFixed(1),
    ...(firstMs > 0 ? ttftOverSchedule() : {}),
  }),
);
