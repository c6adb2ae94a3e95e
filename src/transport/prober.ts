/**
 * The one-request prober: sends a chat request over undici and returns one Sample, whatever happens.
 *
 * - One undici Pool per prober (one origin): `connections` high, `pipelining: 1` (a second request must never
 *   wait behind a slow stream on the same socket), undici's headersTimeout/bodyTimeout disabled because
 *   dsprobe enforces its own absolute deadline.
 * - Deadlines: one shared sweep (deadlines.ts) instead of a timer per request; a keep-alive never extends one.
 * - `send` never rejects: every failure is a Sample with an outcome (docs/outcomes.md).
 * - The API key goes into request headers only; it is never stored in a Sample or an error text.
 */
import { Pool, request as undiciRequest } from 'undici';
import type { Clock } from '../time/clock.js';
import type { Sample } from '../types.js';
import { anthropicDialect } from '../protocol/anthropic.js';
import type { ChatParams, Dialect } from '../protocol/dialect.js';
import { openAiDialect } from '../protocol/openai.js';
import { clip, messageOfBody } from '../protocol/server-error.js';
import { DeadlineSweep } from './deadlines.js';
import { Exchange, redact } from './exchange.js';
import { networkDetail, networkMessage } from './classify.js';
import { WarmConnector } from './connector.js';

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
}

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
}

/** Sends requests; `send` never rejects. */
export interface Prober {
  send(req: ProbeRequest, signal?: AbortSignal, hooks?: ProbeHooks): Promise<Sample>;
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
}

/** One prober worker thread's event-loop delay over an interval (ms). */
export interface ThreadLoop {
  /** Worker index, from 1 (the main thread, 0, is watched by the run's own loop monitor). */
  thread: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
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

/** Creates a prober for one target. */
export function createProber(opts: ProberOptions): Prober {
  const { origin, basePath } = splitBase(opts.baseUrl);
  const dialect = dialectFor(opts.protocol);
  const path = basePath + dialect.path;
  const clock = opts.clock;
  const connector = new WarmConnector(new URL(origin), clock);
  const maxConnections = opts.maxConnections ?? 10_000;
  const pool = new Pool(origin, {
    connections: maxConnections,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: connector.connect,
  });
  const sweep = new DeadlineSweep(clock);
  const open = new Set<Exchange>();
  const headerCache = new Map<string, Record<string, string>>();
  const onSettle = (x: Exchange) => open.delete(x);
  let closed = false;

  const headersFor = (apiKey: string): Record<string, string> => {
    let h = headerCache.get(apiKey);
    if (!h) {
      h = { ...dialect.headers(apiKey), ...(opts.headers ?? {}) };
      headerCache.set(apiKey, h);
    }
    return h;
  };

  return {
    send(req, signal, hooks) {
      return new Promise<Sample>((resolve) => {
        const x = new Exchange(req, dialect, clock, hooks, resolve, onSettle);
        if (closed) return x.failDispatch(new Error('prober closed'));
        if (signal?.aborted) return x.abortByCaller();
        if (clock.nowUs() >= req.deadline_us) return x.expire();
        open.add(x);
        x.deadline = sweep.add(req.deadline_us, () => x.expire());
        if (signal) {
          x.signal = signal;
          signal.addEventListener('abort', x);
        }
        try {
          pool.dispatch(
            { path, method: 'POST', headers: headersFor(req.apiKey), body: dialect.body(req) },
            x as unknown as Parameters<Pool['dispatch']>[1],
          );
        } catch (err) {
          x.failDispatch(err);
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
  /** What went wrong, safe to print (server message or network error; never the key). */
  error?: string;
  /** `network` details (`refused`, `dns`, `reset`, `timeout`) or `http_<status>` or `bad_json`. */
  detail?: string;
  /** Round-trip time in microseconds. */
  elapsed_us: number;
}

/**
 * GET `{baseUrl}{path}` with the key as bearer token (plus `x-api-key` for the Anthropic surface), for
 * pre-flight checks such as `GET /models` and `GET /user/balance`. Never throws.
 */
export async function getJson(
  baseUrl: string,
  path: string,
  apiKey: string,
  clock: Clock,
  opts: { headers?: Record<string, string>; timeoutMs?: number; protocol?: 'openai' | 'anthropic' } = {},
): Promise<JsonResult> {
  const t0 = clock.nowUs();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  if (apiKey && opts.protocol === 'anthropic') {
    headers['x-api-key'] = apiKey;
    headers['anthropic-version'] = '2023-06-01';
  }
  Object.assign(headers, opts.headers ?? {});
  const timeout = opts.timeoutMs ?? 15_000;
  try {
    const url = baseUrl.replace(/\/+$/, '') + path;
    const res = await undiciRequest(url, { method: 'GET', headers, headersTimeout: timeout, bodyTimeout: timeout });
    const text = await res.body.text();
    const elapsed_us = clock.nowUs() - t0;
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      return { ok: false, status, detail: `http_${status}`, error: redact(messageOfBody(text) || `HTTP ${status}`, apiKey), elapsed_us };
    }
    try {
      return { ok: true, status, body: JSON.parse(text) as unknown, elapsed_us };
    } catch {
      return { ok: false, status, detail: 'bad_json', error: redact(clip(text.slice(0, 200)), apiKey), elapsed_us };
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    return {
      ok: false,
      detail: timedOut ? 'timeout' : networkDetail(err),
      error: redact(networkMessage(err), apiKey),
      elapsed_us: clock.nowUs() - t0,
    };
  }
}
