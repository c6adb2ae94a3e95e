/**
 * The one-request prober: sends a chat request and returns one Sample, whatever happens.
 *
 * - One pool of dsprobe's own HTTP/1.1 connections per prober (one origin; client-pool.ts: O(1) dispatch,
 *   h1.ts: one request per connection at a time, so a second request never waits behind a slow stream), no
 *   timeouts of their own: dsprobe enforces one absolute deadline per request. The pre-flight's GETs use
 *   undici (`getJson`).
 * - Deadlines: one shared sweep (deadlines.ts) instead of a timer per request; a keep-alive never extends one.
 * - `send` never rejects: every failure is a Sample with an outcome (docs/outcomes.md).
 * - The API key goes into request headers only; it is never stored in a Sample or an error text.
 */
import { request as undiciRequest } from 'undici';
import type { Clock } from '../time/clock.js';
import type { Sample } from '../types.js';
import { anthropicDialect } from '../protocol/anthropic.js';
import type { ChatParams, Dialect } from '../protocol/dialect.js';
import { openAiDialect } from '../protocol/openai.js';
import { clip, messageOfBody } from '../protocol/server-error.js';
import { DeadlineSweep } from './deadlines.js';
import { DEFAULT_MAX_BODY, Exchange, redact } from './exchange.js';
import { mergeHeaders, type Scrubber } from '../secrets.js';
import { networkDetail, networkMessage } from './classify.js';
import { WarmConnector } from './connector.js';
import { ClientPool } from './client-pool.js';
import type { CancelSignal } from './abort.js';

/** How to reach the target. */
export interface ProberOptions {
  /** e.g. http://127.0.0.1:PORT or https://api.deepseek.com (no trailing slash; a path such as /anthropic is kept). */
  baseUrl: string;
  protocol: 'openai' | 'anthropic';
  /** Extra headers (already resolved; may hold secrets: never logged). They override the dialect's defaults. */
  headers?: Record<string, string>;
  /** Every timestamp comes from clock.nowUs(). */
  clock: Clock;
  /** Connections per origin (default 10_000). */
  maxConnections?: number;
  /** Largest 2xx non-stream body, bytes (`request.max_body`; default DEFAULT_MAX_BODY). Bounds SSE lines too. */
  maxBody?: number;
  /** Every configured secret, scrubbed from server text before it reaches a Sample. */
  scrubber?: Scrubber;
}

/** Largest response header block read; past it: `protocol/headers_too_large`. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** One request to send. Times are monotonic microseconds on the prober's clock. */
/** One request to send: the chat fields (ChatParams) plus what the Sample records about it. */
export interface ProbeRequest extends ChatParams {
  id: number;
  step: number;
  target_inflight: number;
  inflight_at_send: number;
  key_index: number;
  /** Never stored in the Sample, never in errors. */
  apiKey: string;
  /** Set by the executor. */
  intended_us: number;
  /** ABSOLUTE monotonic deadline; keep-alives never extend it. */
  deadline_us: number;
}

/** Optional synchronous callbacks; keep them cheap (they run on the hot path). */
export interface ProbeHooks {
  /** Response headers arrived (lets the executor count admitted requests). */
  onHeaders?(req: ProbeRequest, status: number, atUs: number): void;
  /** One keep-alive unit arrived before any data. */
  onKeepAlive?(req: ProbeRequest, atUs: number): void;
  /** The first token (answer or reasoning) of a stream arrived; once per request. */
  onFirstToken?(req: ProbeRequest, atUs: number, sentUs: number): void;
}

/**
 * Lets go of a request's prompt text once its body is built (or it will never be sent): the request itself is held
 * until its answer ends, and a prompt of thousands of tokens per open stream would otherwise stay in the heap that
 * long, copied by young-generation collections whose pauses delay every read due meanwhile (callers keep its length
 * where they need it). Every prober does this in `send`: read the text before.
 */
export function releasePrompt(req: ProbeRequest): void {
  req.prompt = '';
  req.system = '';
}

/** Sends requests; `send` never rejects. */
export interface Prober {
  /**
   * `signal`: an AbortSignal, or the lighter AbortHandle (abort.ts) the driver makes per request. The request's
   * `prompt` and `system` are emptied once its body is built (releasePrompt): read them before.
   */
  send(req: ProbeRequest, signal?: CancelSignal, hooks?: ProbeHooks): Promise<Sample>;
  /**
   * In-process probers only: starts `req` with no promise, signal or closure of its own. `done` receives its
   * Sample exactly once, synchronously when the request cannot start (closed prober, `aborted`, deadline already
   * past), else from inside the read that ends it. The returned exchange's `abortByCaller()` aborts it as a signal
   * would. The request's prompt is emptied as `send` does.
   */
  start?(req: ProbeRequest, hooks: ProbeHooks | undefined, done: (s: Sample) => void, aborted?: boolean): Exchange;
  /** Aborts what is still in flight (settled as `aborted`) and closes all connections. */
  close(): Promise<void>;
  /**
   * Makes sure about `n` idle connections are open (for `n` more requests) before a level's clock starts, with
   * a bounded number of connects at once, so TTFT never includes a connect storm. Resolves with the sockets
   * newly opened.
   */
  warm?(n: number): Promise<number>;
  /** What happened since the last call: connect durations, and each worker thread's loop delay. */
  health?(): Promise<ProberHealth>;
  /**
   * Each worker thread's event-loop delay p99 (ms) since the last call with `reset` (or its start): one figure
   * over a span of the caller's choosing, beside health()'s 250 ms intervals. Absent on the main thread.
   */
  loopSpan?(reset: boolean): Promise<number[]>;
}

/** One prober worker thread's event-loop delay over an interval (ms). */
export interface ThreadLoop {
  /** Worker index, from 1 (the main thread, 0, is watched by the run's own loop monitor). */
  thread: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Share of the interval its event loop was busy, 0-1 (thread-meter.ts). */
  busy: number;
  /** Longest garbage-collection pause in the interval, ms. */
  gc_max_ms: number;
}

/** A prober's own health since the last `health()` call. */
export interface ProberHealth {
  /** Durations (µs) of the TCP/TLS connects: connect time, a figure of its own, never hidden in TTFT. */
  connect_us: number[];
  /** Worker threads' loop delays (empty when requests run on the main thread). */
  threads: ThreadLoop[];
}

/** The dialect for a protocol name. */
export function dialectFor(protocol: 'openai' | 'anthropic'): Dialect {
  return protocol === 'anthropic' ? anthropicDialect : openAiDialect;
}

function splitBase(baseUrl: string): { origin: string; basePath: string } {
  const u = new URL(baseUrl);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

/**
 * The in-process prober, with a lower-level entry for callers that own their requests' lifetimes (the worker
 * thread): no promise, no AbortSignal per request.
 */
export interface LocalProber extends Prober {
  /** See Prober.start: every in-process prober has it. */
  start(req: ProbeRequest, hooks: ProbeHooks | undefined, done: (s: Sample) => void, aborted?: boolean): Exchange;
}

/** Creates a prober for one target. */
export function createProber(opts: ProberOptions): LocalProber {
  const { origin, basePath } = splitBase(opts.baseUrl);
  const dialect = dialectFor(opts.protocol);
  const path = basePath + dialect.path;
  const clock = opts.clock;
  const connector = new WarmConnector(new URL(origin), clock);
  const maxConnections = opts.maxConnections ?? 10_000;
  const pool = new ClientPool(origin, { connections: maxConnections, maxHeaderSize: MAX_HEADER_BYTES, connect: connector.connectOrigin });
  const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
  const scrub = opts.scrubber && opts.scrubber.size > 0 ? opts.scrubber.scrub : undefined;
  const sweep = new DeadlineSweep(clock);
  const open = new Set<Exchange>();
  const headerCache = new Map<string, Record<string, string>>();
  const onSettle = (x: Exchange) => open.delete(x);
  let closed = false;

  const headersFor = (apiKey: string): Record<string, string> => {
    let h = headerCache.get(apiKey);
    if (!h) {
      h = mergeHeaders(dialect.headers(apiKey), opts.headers);
      headerCache.set(apiKey, h);
    }
    return h;
  };

  /** Starts one request: `done` receives its Sample once. See LocalProber.start. */
  const start = (req: ProbeRequest, hooks: ProbeHooks | undefined, done: (s: Sample) => void, aborted = false): Exchange => {
    const x = new Exchange(req, dialect, clock, hooks, done, onSettle, maxBody, scrub);
    if (closed) x.failDispatch(new Error('prober closed'));
    else if (aborted) x.abortByCaller();
    else if (x.sample.sent_us >= req.deadline_us) x.expire();
    else {
      open.add(x);
      x.deadline = sweep.add(req.deadline_us, x);
      try {
        pool.dispatch({ path, method: 'POST', headers: headersFor(req.apiKey), body: dialect.body(req) }, x);
      } catch (err) {
        x.failDispatch(err);
      }
    }
    // Sent (its body built and written or queued) or never to be: either way its text is not needed again.
    releasePrompt(req);
    return x;
  };

  return {
    start,
    send(req, signal, hooks) {
      return new Promise<Sample>((resolve) => {
        const x = start(req, hooks, resolve, signal?.aborted === true);
        // Still open: the caller's abort settles it (the exchange is the listener; released when it ends).
        if (signal && !x.isSettled) {
          x.signal = signal;
          signal.addEventListener('abort', x);
        }
      });
    },
    async close() {
      closed = true;
      for (const x of [...open]) x.abortByCaller();
      sweep.close();
      connector.close();
      await pool.destroy().catch(() => undefined);
    },
    warm(n) {
      const want = Math.min(n, maxConnections - pool.stats.connected) - pool.stats.free - connector.stashed;
      return closed ? Promise.resolve(0) : connector.warm(want);
    },
    health() {
      return Promise.resolve({ connect_us: connector.drainConnectTimes(), threads: [] });
    },
  };
}

/** Result of a pre-flight GET. `body` is the parsed JSON when the response was JSON. */
export interface JsonResult {
  ok: boolean;
  status?: number;
  body?: unknown;
  /** What went wrong, safe to print (server message or network error; never a secret). */
  error?: string;
  /** `network` details (`refused`, `dns`, `reset`, ...), `timeout` (the deadline passed), `http_<status>`,
   * `bad_json` or `body_too_large`. */
  detail?: string;
  /** Round-trip time in microseconds. */
  elapsed_us: number;
}

/** Largest pre-flight JSON answer read (a model list or a balance is a few KiB). */
export const MAX_PREFLIGHT_BODY = 1024 * 1024;

/**
 * GET `{baseUrl}{path}` with the key as bearer token (plus `x-api-key` for the Anthropic surface), for
 * pre-flight checks such as `GET /models` and `GET /user/balance`. Never throws. The same deadline rule as a
 * load request: `deadlineUs` is absolute on `clock` (default: now + `timeoutMs`, 15 s), a trickle never extends
 * it; the answer is read up to MAX_PREFLIGHT_BODY bytes, then cut.
 */
export async function getJson(
  baseUrl: string,
  path: string,
  apiKey: string,
  clock: Clock,
  opts: { headers?: Record<string, string>; timeoutMs?: number; deadlineUs?: number; protocol?: 'openai' | 'anthropic'; scrubber?: Scrubber; signal?: AbortSignal } = {},
): Promise<JsonResult> {
  const t0 = clock.nowUs();
  const base: Record<string, string> = { accept: 'application/json' };
  if (apiKey) base.authorization = `Bearer ${apiKey}`;
  if (apiKey && opts.protocol === 'anthropic') {
    base['x-api-key'] = apiKey;
    base['anthropic-version'] = '2023-06-01';
  }
  const headers = mergeHeaders(base, opts.headers);
  const deadlineUs = opts.deadlineUs ?? t0 + (opts.timeoutMs ?? 15_000) * 1000;
  const safe = (text: string) => {
    const t = redact(text, apiKey);
    return opts.scrubber ? opts.scrubber.scrub(t) : t;
  };
  const cut = new AbortController();
  const stopTimer = new AbortController();
  let timedOut = false;
  void clock.sleepUntil(deadlineUs, stopTimer.signal).then(() => {
    if (stopTimer.signal.aborted) return;
    timedOut = true;
    cut.abort(new Error('deadline'));
  });
  const onOuter = () => cut.abort(new Error('aborted'));
  let gotStatus: number | undefined;
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  try {
    const url = baseUrl.replace(/\/+$/, '') + path;
    const res = await undiciRequest(url, { method: 'GET', headers, headersTimeout: 0, bodyTimeout: 0, signal: cut.signal, maxHeaderSize: MAX_HEADER_BYTES } as Parameters<typeof undiciRequest>[1]);
    gotStatus = res.statusCode;
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_PREFLIGHT_BODY) {
        res.body.destroy();
        return { ok: false, status: res.statusCode, detail: 'body_too_large', error: `answer longer than ${MAX_PREFLIGHT_BODY} bytes`, elapsed_us: clock.nowUs() - t0 };
      }
      parts.push(chunk);
    }
    const text = Buffer.concat(parts).toString('utf8');
    const elapsed_us = clock.nowUs() - t0;
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      return { ok: false, status, detail: `http_${status}`, error: safe(messageOfBody(text) || `HTTP ${status}`), elapsed_us };
    }
    try {
      return { ok: true, status, body: JSON.parse(text) as unknown, elapsed_us };
    } catch {
      return { ok: false, status, detail: 'bad_json', error: safe(clip(text.slice(0, 200))), elapsed_us };
    }
  } catch (err) {
    const elapsed_us = clock.nowUs() - t0;
    if (timedOut) {
      return { ok: false, ...(gotStatus !== undefined ? { status: gotStatus } : {}), detail: 'timeout', error: `no complete answer within ${Math.round((deadlineUs - t0) / 1000)} ms (deadline)`, elapsed_us };
    }
    return { ok: false, detail: networkDetail(err), error: safe(networkMessage(err)), elapsed_us };
  } finally {
    stopTimer.abort();
    opts.signal?.removeEventListener('abort', onOuter);
  }
}
