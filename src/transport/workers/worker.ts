/**
 * A prober worker thread: its own undici pool and sockets, SSE parsing and Sample building, on its own core.
 * It receives batches of requests, sends each through an ordinary in-process prober (createProber: the same
 * code path as one thread, so measurement semantics are identical), and reports back in batches: response
 * headers (the coordinator counts admissions and 429s from them), keep-alives when asked, and finished Samples.
 * Batches go out after each I/O phase (setImmediate), so an admission or a 429 reaches the coordinator within
 * one turn of this thread's loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { monotonicClock } from '../../time/clock.js';
import { makeScrubber } from '../../secrets.js';
import { createProber, type ProbeHooks, type ProbeRequest } from '../prober.js';
import { OWN_CUT, withoutStacks } from '../quiet-abort.js';
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
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

let out: FromWorkerEvent[] = [];
let flushPending = false;
const flush = (): void => {
  flushPending = false;
  if (out.length === 0) return;
  const ev = out;
  out = [];
  post({ t: 'ev', ev });
};
const push = (e: FromWorkerEvent): void => {
  out.push(e);
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
/** Abort handles of open requests, by id (the coordinator forwards its callers' aborts). */
const ctls = new Map<number, AbortController>();

/**
 * Sends waiting to go out. A port delivers every queued message in one go, so without this a level of thousands
 * would be dispatched in one long synchronous burst while open streams wait to be read (the coordinator's driver
 * slices its launches for the same reason): at most SEND_SLICE per turn, the loop free in between.
 */
const SEND_SLICE = 64;
let queue: SendMsg[] = [];
let head = 0;
let pumping = false;
const pump = (): void => {
  const end = Math.min(queue.length, head + SEND_SLICE);
  for (; head < end; head++) {
    const { req, ka, aborted } = queue[head] as SendMsg & { aborted?: boolean };
    const ctl = new AbortController();
    if (aborted) ctl.abort(OWN_CUT);
    else ctls.set(req.id, ctl);
    void prober.send(req, ctl.signal, ka ? hooksKa : hooks).then((s) => {
      ctls.delete(s.id);
      push({ t: 's', s });
    });
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
        pump();
      }
      break;
    case 'abort':
      for (const id of m.ids) {
        const ctl = ctls.get(id);
        if (ctl) withoutStacks(() => ctl.abort(OWN_CUT));
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
    case 'stats': {
      const ms = (ns: number) => Math.max(0, Math.round(((Number.isFinite(ns) ? ns : 0) - 10e6) / 1e4) / 100);
      const n = loop.count ?? 0;
      const stats = { thread: init.index, p50_ms: n ? ms(loop.percentile(50)) : 0, p99_ms: n ? ms(loop.percentile(99)) : 0, max_ms: n ? ms(loop.max) : 0 };
      void (prober.health?.() ?? Promise.resolve({ connect_us: [], threads: [] })).then((h) => {
        post({ t: 'stats', seq: m.seq, connect_us: h.connect_us, stats });
        loop.reset();
      });
      break;
    }
    case 'close':
      void prober.close().then(() => {
        flush();
        loop.disable();
        post({ t: 'closed' });
        port.close();
      });
      break;
  }
});
