/**
 * The multi-core prober: the same `Prober` seam, with requests spread over N worker threads, each with its own
 * undici pool, sockets and parsing (worker.ts). The coordinator (this side, on the main thread) keeps the plan,
 * the search and every decision: it sees each response's status as the worker reports it, hands the caller's
 * hooks the same (req, status, at) they would get in-process, and forwards aborts.
 *
 * - A request goes to the worker with the fewest open requests, so each worker's share of a level follows the
 *   level exactly and the shares always sum to it (the coordinator launches every request).
 * - Sends are batched per synchronous slice (one postMessage per worker per microtask checkpoint); workers batch
 *   their events per I/O phase.
 * - Timestamps: every worker's clock is the coordinator's (Clock.originMs on the shared time line).
 */
import { Worker } from 'node:worker_threads';
import type { Sample } from '../../types.js';
import type { Clock } from '../../time/clock.js';
import { Exchange } from '../exchange.js';
import type { CancelSignal } from '../abort.js';
import { dialectFor, releasePrompt, type ProbeHooks, type ProbeRequest, type Prober, type ProberHealth, type ProberOptions, type ThreadLoop } from '../prober.js';
import type { FromWorker, SendMsg, ToWorker, WorkerInit } from './protocol.js';

/** Options of the multi-core prober. */
export interface WorkerProberOptions extends ProberOptions {
  /** Worker threads (>= 1). */
  workers: number;
}

interface Slot {
  w: Worker;
  /** Open requests on this worker. */
  load: number;
  outbox: SendMsg[];
  aborts: number[];
  closed: Promise<void>;
}

/** One request waiting for its worker's answer. Doubles as the abort listener (no closure per request). */
class Pending {
  constructor(
    readonly req: ProbeRequest,
    readonly hooks: ProbeHooks | undefined,
    readonly resolve: (s: Sample) => void,
    readonly slot: Slot,
    readonly onAbort: (p: Pending) => void,
    public signal: CancelSignal | null,
  ) {}
  handleEvent(): void {
    this.onAbort(this);
  }
}

/** Where the compiled worker entry is (tests run the TypeScript sources; the worker runs from dist/). */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../../dist/transport/workers/worker.js', here) : new URL('./worker.js', here);
}

/** Creates a prober that runs requests on `workers` threads. */
export function createWorkerProber(opts: WorkerProberOptions): Prober {
  const clock: Clock = opts.clock;
  if (clock.originMs === undefined) throw new Error('worker threads need the real monotonic clock (Clock.originMs)');
  const dialect = dialectFor(opts.protocol);
  const pending = new Map<number, Pending>();
  const replies = new Map<number, (m: FromWorker) => void>();
  let seq = 0;
  let closed = false;
  let flushQueued = false;

  const onMessage = (slot: Slot, m: FromWorker): void => {
    if (m.t === 'ev') {
      for (const e of m.ev) {
        const p = pending.get(e.t === 's' ? e.s.id : e.id);
        if (!p) continue;
        if (e.t === 'h') p.hooks?.onHeaders?.(p.req, e.status, e.at);
        else if (e.t === 'k') p.hooks?.onKeepAlive?.(p.req, e.at);
        else {
          pending.delete(e.s.id);
          slot.load--;
          if (p.signal) p.signal.removeEventListener('abort', p);
          p.resolve(e.s);
        }
      }
    } else if (m.t === 'connected' || m.t === 'stats' || m.t === 'span') {
      replies.get(m.seq)?.(m);
    }
  };

  const slots: Slot[] = [];
  for (let i = 0; i < Math.max(1, opts.workers); i++) {
    const init: WorkerInit = {
      index: i + 1,
      baseUrl: opts.baseUrl,
      protocol: opts.protocol,
      originMs: clock.originMs,
      ...(opts.headers ? { headers: opts.headers } : {}),
      ...(opts.maxConnections !== undefined ? { maxConnections: Math.ceil(opts.maxConnections / opts.workers) } : {}),
      ...(opts.maxBody !== undefined ? { maxBody: opts.maxBody } : {}),
      ...(opts.scrubber && opts.scrubber.size > 0 ? { secrets: [...opts.scrubber.values] } : {}),
    };
    const w = new Worker(workerUrl(), { workerData: init });
    const slot: Slot = { w, load: 0, outbox: [], aborts: [], closed: Promise.resolve() };
    slot.closed = new Promise<void>((resolve) => {
      w.on('message', (m: FromWorker) => {
        onMessage(slot, m);
        if (m.t === 'closed') resolve();
      });
      w.once('exit', () => resolve());
    });
    // A worker that dies (a bug) must not hang the run: its open requests end as network failures.
    w.on('error', (err) => {
      for (const [id, p] of pending) {
        if (p.slot !== slot) continue;
        pending.delete(id);
        slot.load--;
        const x = new Exchange(p.req, dialect, clock, undefined, p.resolve, () => undefined);
        x.failDispatch(err);
      }
    });
    slots.push(slot);
  }

  const flush = (): void => {
    flushQueued = false;
    for (const s of slots) {
      if (s.outbox.length) {
        const batch = s.outbox;
        s.outbox = [];
        s.w.postMessage({ t: 'send', batch } satisfies ToWorker);
        // Copied to the worker: this thread holds each request until its answer, but not its prompt.
        for (const m of batch) releasePrompt(m.req);
      }
      if (s.aborts.length) {
        const ids = s.aborts;
        s.aborts = [];
        s.w.postMessage({ t: 'abort', ids } satisfies ToWorker);
      }
    }
  };
  const queueFlush = (): void => {
    if (flushQueued) return;
    flushQueued = true;
    queueMicrotask(flush);
  };
  const onAbort = (p: Pending): void => {
    p.slot.aborts.push(p.req.id);
    queueFlush();
  };
  const ask = <T extends FromWorker>(slot: Slot, msg: (seq: number) => ToWorker): Promise<T> => {
    const n = ++seq;
    return new Promise<T>((resolve) => {
      replies.set(n, (m) => {
        replies.delete(n);
        resolve(m as T);
      });
      slot.w.postMessage(msg(n));
    });
  };

  return {
    send(req, signal, hooks) {
      return new Promise<Sample>((resolve) => {
        if (closed || signal?.aborted) {
          releasePrompt(req);
          const x = new Exchange(req, dialect, clock, hooks, resolve, () => undefined);
          return closed ? x.failDispatch(new Error('prober closed')) : x.abortByCaller();
        }
        let slot = slots[0] as Slot;
        for (let i = 1; i < slots.length; i++) if ((slots[i] as Slot).load < slot.load) slot = slots[i] as Slot;
        slot.load++;
        const p = new Pending(req, hooks, resolve, slot, onAbort, signal ?? null);
        pending.set(req.id, p);
        if (signal) signal.addEventListener('abort', p);
        slot.outbox.push({ req, ka: hooks?.onKeepAlive !== undefined });
        queueFlush();
      });
    },
    async warm(n) {
      if (closed) return 0;
      const share = Math.ceil(n / slots.length);
      const done = await Promise.all(slots.map((s) => ask<{ t: 'connected'; seq: number; opened: number }>(s, (q) => ({ t: 'connect', n: share, seq: q }))));
      return done.reduce((a, m) => a + m.opened, 0);
    },
    async loopSpan(reset: boolean): Promise<number[]> {
      if (closed) return [];
      const all = await Promise.all(slots.map((s) => ask<{ t: 'span'; seq: number; p99_ms: number }>(s, (q) => ({ t: 'span', seq: q, reset }))));
      return all.map((m) => m.p99_ms);
    },
    async health(): Promise<ProberHealth> {
      if (closed) return { connect_us: [], threads: [] };
      const all = await Promise.all(slots.map((s) => ask<{ t: 'stats'; seq: number; stats: ThreadLoop; connect_us: number[] }>(s, (q) => ({ t: 'stats', seq: q }))));
      return { connect_us: all.flatMap((m) => m.connect_us), threads: all.map((m) => m.stats) };
    },
    async close() {
      if (closed) return;
      closed = true;
      flush();
      for (const s of slots) s.w.postMessage({ t: 'close' } satisfies ToWorker);
      await Promise.all(slots.map((s) => s.closed));
      await Promise.all(slots.map((s) => s.w.terminate()));
      // Anything a worker never answered (it died) ends as aborted, never as a hang.
      for (const p of pending.values()) new Exchange(p.req, dialect, clock, undefined, p.resolve, () => undefined).abortByCaller();
      pending.clear();
    },
  };
}
