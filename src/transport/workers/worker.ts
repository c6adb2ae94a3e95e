/**
 * A prober worker thread: its own undici pool and sockets, SSE parsing and Sample building, on its own core.
 * It receives batches of requests, sends each through an ordinary in-process prober (createProber: the same
 * code path as one thread, so measurement semantics are identical), and reports back in batches: response
 * headers (the coordinator counts admissions and 429s from them), keep-alives when asked, and finished Samples.
 * Batches go out after each I/O phase (setImmediate), or as soon as their oldest event is 1 ms old (a phase
 * reading thousands of streams takes longer), so an admission or a 429 reaches the coordinator within a
 * millisecond of being read. Requests start through the prober's `start` (one shared completion callback, the
 * exchange as abort handle): no promise, closure or AbortController per request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { monotonicClock } from '../../time/clock.js';
import { threadMeter } from '../thread-meter.js';
import { makeScrubber } from '../../secrets.js';
import { createProber, type ProbeHooks, type ProbeRequest } from '../prober.js';
import { withoutStacks } from '../quiet-abort.js';
import type { Exchange } from '../exchange.js';
import type { Sample } from '../../types.js';
import type { FromWorker, FromWorkerEvent, SendMsg, ToWorker, WorkerInit } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('dsprobe prober worker started outside a worker thread');
const init = workerData as WorkerInit;
const clock = monotonicClock(init.originMs);
const prober = createProber({
  baseUrl: init.baseUrl,
  protocol: init.protocol,
  clock,
  ...(init.headers ? { headers: init.headers } : {}),
  ...(init.maxConnections !== undefined ? { maxConnections: init.maxConnections } : {}),
  ...(init.maxBody !== undefined ? { maxBody: init.maxBody } : {}),
  ...(init.secrets ? { scrubber: makeScrubber(init.secrets) } : {}),
});
const LOOP_RESOLUTION_MS = 10;

/** This thread's event-loop delay over windows that end when read with `reset` (ms, less the resolution). */
function loopWindow() {
  const h = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  h.enable();
  let since = performance.now();
  const ms = (ns: number) => Math.max(0, Math.round(((Number.isFinite(ns) ? ns : 0) - LOOP_RESOLUTION_MS * 1e6) / 1e4) / 100);
  return {
    read(reset: boolean): { p50_ms: number; p99_ms: number; max_ms: number } {
      const now = performance.now();
      // No sample in the window: the monitor's timer could not fire for all of it, so the loop was held that
      // long (less one resolution). Reporting 0 here would call a stalled thread healthy.
      const held = Math.max(0, Math.round((now - since - LOOP_RESOLUTION_MS) * 100) / 100);
      const r = (h.count ?? 0) ? { p50_ms: ms(h.percentile(50)), p99_ms: ms(h.percentile(99)), max_ms: ms(h.max) } : { p50_ms: held, p99_ms: held, max_ms: held };
      if (reset) {
        h.reset();
        since = now;
      }
      return r;
    },
    disable: () => h.disable(),
  };
}
/** The client sampler's 250 ms intervals (Prober.health). */
const loop = loopWindow();
/** A span the caller chooses (Prober.loopSpan), apart from those intervals. */
const span = loopWindow();
/** How busy this thread was over the client sampler's intervals. */
const meter = threadMeter();

let out: FromWorkerEvent[] = [];
let flushPending = false;
const flush = (): void => {
  flushPending = false;
  if (out.length === 0) return;
  const ev = out;
  out = [];
  post({ t: 'ev', ev });
};
/** Time (µs) of the oldest event waiting in `out`. */
let oldestUs = 0;
/** Longest an event waits for a long I/O phase to end before its batch goes out anyway (µs). */
const MAX_BATCH_WAIT_US = 1000;
const push = (e: FromWorkerEvent): void => {
  // The event's own timestamp (no extra clock read): a batch older than MAX_BATCH_WAIT_US goes out now, so an
  // admission or a 429 read early in a phase of thousands of reads is not held back until the phase ends.
  const at = e.t === 's' ? e.s.end_us : e.at;
  if (out.push(e) === 1) oldestUs = at;
  else if (at - oldestUs > MAX_BATCH_WAIT_US) return flush();
  if (!flushPending) {
    flushPending = true;
    setImmediate(flush);
  }
};
function post(m: FromWorker): void {
  (port as NonNullable<typeof port>).postMessage(m);
}

const hooks: ProbeHooks = {
  onHeaders: (req: ProbeRequest, status: number, at: number) => push({ t: 'h', id: req.id, status, at }),
};
const hooksKa: ProbeHooks = {
  ...hooks,
  onKeepAlive: (req: ProbeRequest, at: number) => push({ t: 'k', id: req.id, at }),
};
/** Open requests by id (the coordinator forwards its callers' aborts): the exchange itself is the abort handle. */
const open = new Map<number, Exchange>();
/** One completion callback for every request (no closure, promise or AbortController per request). */
const done = (s: Sample): void => {
  open.delete(s.id);
  push({ t: 's', s });
};

/**
 * Sends waiting to go out. A port delivers every queued message in one go, so without this a level of thousands
 * would be dispatched in one long synchronous burst while open streams wait to be read (the coordinator's driver
 * slices its launches for the same reason): at most SEND_SLICE per turn, the loop free in between.
 *
 * Sends go out in the check phase (setImmediate), never from the message handler: the port's messages arrive in
 * the I/O (poll) phase, and requests dispatched there answer within the same phase, whose reads bring samples,
 * whose replacements arrive as more messages... With thousands of streams libuv kept polling (it polls again
 * while each poll returns a full batch of events), and one phase lasted over a second with no timer run (measured:
 * 2,500 streams a worker, loop delay 1.0-1.4 s, TTFT 0.6-1.5 s over the schedule). Deferred, as the in-process
 * driver's refills are, a phase only reads what is already in flight.
 */
const SEND_SLICE = 64;
let queue: SendMsg[] = [];
let head = 0;
let pumping = false;
const pump = (): void => {
  const end = Math.min(queue.length, head + SEND_SLICE);
  for (; head < end; head++) {
    const { req, ka, aborted } = queue[head] as SendMsg & { aborted?: boolean };
    // Settled at once (aborted while queued here, deadline past): `done` already ran, nothing stays open.
    const x = prober.start(req, ka ? hooksKa : hooks, done, aborted === true);
    if (!x.isSettled) open.set(req.id, x);
  }
  if (head < queue.length) setImmediate(pump);
  else {
    queue = [];
    head = 0;
    pumping = false;
  }
};

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'send':
      for (const x of m.batch) queue.push(x);
      if (!pumping) {
        pumping = true;
        setImmediate(pump);
      }
      break;
    case 'abort':
      for (const id of m.ids) {
        const x = open.get(id);
        if (x) withoutStacks(() => x.abortByCaller());
        else {
          // Still queued here: it goes out with its signal already aborted (settled as aborted, never sent).
          const i = queue.findIndex((x, k) => k >= head && x.req.id === id);
          if (i >= 0) (queue[i] as SendMsg & { aborted?: boolean }).aborted = true;
        }
      }
      break;
    case 'connect':
      void (prober.warm?.(m.n) ?? Promise.resolve(0)).then((opened) => post({ t: 'connected', seq: m.seq, opened }));
      break;
    case 'span':
      post({ t: 'span', seq: m.seq, p99_ms: span.read(m.reset).p99_ms });
      break;
    case 'stats': {
      const stats = { thread: init.index, ...loop.read(true), ...meter.read(true) };
      void (prober.health?.() ?? Promise.resolve({ connect_us: [], threads: [] })).then((h) => {
        post({ t: 'stats', seq: m.seq, connect_us: h.connect_us, stats });
      });
      break;
    }
    case 'close':
      void prober.close().then(() => {
        flush();
        loop.disable();
        span.disable();
        meter.stop();
        post({ t: 'closed' });
        port.close();
      });
      break;
  }
});
