/**
 * The messages between the coordinator (main thread) and its prober workers. Compact on purpose: one
 * postMessage carries a batch (a tick's worth of sends, or of headers and samples), so the per-request cost of
 * crossing threads is a share of one structured clone, not a message each.
 */
import type { Sample } from '../../types.js';
import type { ProbeRequest, ProberOptions, ThreadLoop } from '../prober.js';

/** What a worker is started with (workerData). */
export interface WorkerInit {
  index: number;
  baseUrl: string;
  protocol: ProberOptions['protocol'];
  headers?: Record<string, string>;
  maxConnections?: number;
  /** request.max_body: the same bounds in every thread. */
  maxBody?: number;
  /** The secrets to scrub from server text (the worker builds its own scrubber; never written anywhere). */
  secrets?: string[];
  /**
   * The coordinator clock's origin on the shared time line `performance.timeOrigin + performance.now()` (ms):
   * the worker's clock reads the same microseconds as the coordinator's, so a Sample built in a worker is on
   * the run's time base.
   */
  originMs: number;
}

/** One request handed to a worker; `ka`: the caller wants keep-alive events forwarded. */
export interface SendMsg {
  req: ProbeRequest;
  ka: boolean;
}

/** Coordinator -> worker. */
export type ToWorker =
  | { t: 'send'; batch: SendMsg[] }
  | { t: 'abort'; ids: number[] }
  | { t: 'connect'; n: number; seq: number }
  | { t: 'stats'; seq: number }
  | { t: 'span'; seq: number; reset: boolean }
  | { t: 'close' };


/**
 * Worker -> coordinator: a batch of events in arrival order. `h`: response headers (id, status, at µs);
 * `k`: a keep-alive (id, at µs); `s`: a finished Sample.
 */
export type FromWorkerEvent = { t: 'h'; id: number; status: number; at: number } | { t: 'k'; id: number; at: number } | { t: 's'; s: Sample };

export type FromWorker =
  | { t: 'ev'; ev: FromWorkerEvent[] }
  | { t: 'connected'; seq: number; opened: number }
  | { t: 'stats'; seq: number; stats: ThreadLoop; connect_us: number[] }
  | { t: 'span'; seq: number; p99_ms: number }
  | { t: 'closed' };
