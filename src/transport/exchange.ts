/**
 * One HTTP exchange as a raw dispatch handler (h1.ts): bytes in, one Sample out, never a rejection.
 *
 * Uses raw handler callbacks (onConnect/onHeaders/onData/onComplete/onError): no stream objects, no header
 * object built per response, and no per-chunk promise.
 * Timestamps are read from the Clock once per callback (all events decoded from one chunk share its arrival
 * time). The Sample is settled exactly once, by the first of: response end, connection error, the absolute
 * deadline (shared sweep), or the caller's abort signal.
 */
import type { Clock } from '../time/clock.js';
import type { Sample } from '../types.js';
import { newFacts, type Dialect, type ResponseFacts, type StreamReader } from '../protocol/dialect.js';
import { errorOf } from '../protocol/server-error.js';
import { SSE_MAX_LINE, SseParser, type SseHandler } from '../protocol/sse.js';
import type { DeadlineHandle } from './deadlines.js';
import type { CancelSignal } from './abort.js';
import { H1_CODES, lfIn, type H1Handler } from './h1.js';
import { readHeaders } from './headers.js';
import {
  networkDetail,
  networkMessage,
  verdictForBody,
  verdictForServerError,
  verdictForStatus,
  verdictForStreamEnd,
  type Verdict,
} from './classify.js';
import type { ProbeHooks, ProbeRequest } from './prober.js';

/** Most bytes of a non-2xx body read: its status already decided the outcome, so the rest is cut. */
export const MAX_ERROR_BODY = 64 * 1024;
/** Default largest 2xx non-stream body (`request.max_body`); an SSE line or event is bounded by min(this, 4 MiB). */
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

const enum Mode {
  None = 0,
  Sse = 1,
  Body = 2,
  ErrorBody = 3,
}

/** Why dsprobe itself aborted the request (the connection receives this as the abort reason). */
class StopError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'DsprobeStop';
  }
}

/** One StopError per reason, made once: an Error captures a stack when built, and a cut level aborts thousands. */
const STOPS = new Map<string, StopError>();
function stopError(why: string): StopError {
  let e = STOPS.get(why);
  if (!e) STOPS.set(why, (e = new StopError(why)));
  return e;
}

/** Per-request state machine. Create, then `start` it via the dispatcher. */
export class Exchange implements SseHandler, H1Handler {
  readonly sample: Sample;
  private readonly req: ProbeRequest;
  private readonly dialect: Dialect;
  private readonly clock: Clock;
  private readonly hooks: ProbeHooks | undefined;
  private readonly resolve: (s: Sample) => void;
  private readonly onSettle: (x: Exchange) => void;
  private abortFn: ((err?: Error) => void) | null = null;
  /** Set once the Sample is final; later callbacks only drain or abort. */
  private settled = false;
  private wireDone = false;
  private mode: Mode = Mode.None;
  private contentType = '';
  private facts: ResponseFacts | null = null;
  private reader: StreamReader | null = null;
  /**
   * The SSE parser, made on the first piece of a stream the byte path does not read (sseParser()): a stream whose
   * every event is read in bytes (fast-delta.ts, template-prior.ts, closing-chunk.ts) never holds one.
   */
  private sse: SseParser | null = null;
  /** Body bytes kept (a non-stream body, an error body); made on the first piece: a stream never needs it. */
  private chunks: Buffer[] | null = null;
  private bytes = 0;
  private sawData = false;
  /** Arrival time of the chunk being parsed (µs). */
  private at = 0;
  deadline: DeadlineHandle | null = null;
  signal: CancelSignal | null = null;
  /** Largest body / SSE line kept (bytes / characters): past it the request ends and the connection is cut. */
  private readonly maxBody: number;
  /** Replaces every configured secret in server text before it reaches the Sample. */
  private readonly scrub: ((text: string) => string) | undefined;

  constructor(
    req: ProbeRequest,
    dialect: Dialect,
    clock: Clock,
    hooks: ProbeHooks | undefined,
    resolve: (s: Sample) => void,
    onSettle: (x: Exchange) => void,
    maxBody = DEFAULT_MAX_BODY,
    scrub?: (text: string) => string,
  ) {
    this.maxBody = maxBody;
    this.scrub = scrub;
    this.req = req;
    this.dialect = dialect;
    this.clock = clock;
    this.hooks = hooks;
    this.resolve = resolve;
    this.onSettle = onSettle;
    const s: Sample = {
      id: req.id,
      model: req.model,
      step: req.step,
      target_inflight: req.target_inflight,
      key_index: req.key_index,
      intended_us: req.intended_us,
      sent_us: clock.nowUs(),
      keepalives: 0,
      end_us: 0,
      outcome: 'ok',
      inflight_at_send: req.inflight_at_send,
    };
    if (req.user_id !== undefined) s.user_id = req.user_id;
    this.sample = s;
  }

  // ---- called by the prober -------------------------------------------------------------------------

  /** The Sample is final (resolved). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** The absolute deadline passed: settle as timeout (unless the status already decided) and cut. */
  expire(): void {
    this.deadline = null;
    if (!this.settled) {
      const v = this.decided() ?? { outcome: 'timeout', detail: 'deadline' };
      this.settle(v);
    }
    this.cut('deadline');
  }

  /** The caller's signal fired: settle as aborted (unless the status already decided) and cut. */
  abortByCaller(): void {
    if (!this.settled) this.settle(this.decided(true) ?? { outcome: 'aborted', detail: 'aborted' });
    this.cut('aborted');
  }

  /** The dispatcher refused the request synchronously (closed pool, bad arguments). */
  failDispatch(err: unknown): void {
    this.wireDone = true;
    if (!this.settled) this.settle({ outcome: 'network', detail: 'dispatch', error: networkMessage(err) });
  }

  // ---- connection handler ----------------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) {
      abort(stopError('settled'));
      return;
    }
    this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: string[], _resume: () => void, _statusText: string): boolean {
    if (this.settled) return false;
    if (statusCode < 200) return true; // informational
    const now = this.clock.nowUs();
    const s = this.sample;
    s.headers_us = now;
    s.status = statusCode;
    const h = readHeaders(rawHeaders);
    if (h.retryAfter !== undefined) s.retry_after = h.retryAfter;
    if (h.ratelimit !== undefined) s.ratelimit = h.ratelimit;
    if (h.traceId !== undefined) s.trace_id = h.traceId;
    if (statusCode >= 300) this.mode = Mode.ErrorBody;
    else {
      this.facts = newFacts();
      if (h.contentType.includes('event-stream')) {
        this.mode = Mode.Sse;
        this.reader = this.dialect.streamReader(this.facts);
        this.sse = null;
      } else {
        this.mode = Mode.Body;
        // Kept for the body's verdict only: a stream's request does not hold its header text for its whole life.
        this.contentType = h.contentType;
      }
    }
    this.hooks?.onHeaders?.(this.req, statusCode, now);
    return true;
  }

  onData(buf: Buffer, start: number, end: number): boolean {
    if (this.settled) return true; // draining after a decision: let the connection finish
    const now = this.clock.nowUs();
    const s = this.sample;
    if (s.first_byte_us === undefined) s.first_byte_us = now;
    this.at = now;
    switch (this.mode) {
      case Mode.Sse: {
        // The read's leading `data:` events shaped as this stream's earlier text deltas (one, or several when the
        // server or a busy loop joined them): read in bytes, without decoding (fast-delta.ts), to the same effect
        // as the parser's path below, which takes whatever is left from the first event that is not one.
        let at = start;
        // The common read, one whole event, tried as it is; then event by event.
        if (this.wholeEventFits(end - start) && this.readFrame(buf, start, end)) break;
        // A hook that ended the request (none does so synchronously today) stops the reading here.
        while (at < end && !this.settled) {
          const next = eventEnd(buf, at, end);
          // A read that is one event was tried whole, just above: not twice.
          if (next === -1 || (at === start && next === end) || !this.wholeEventFits(next - at) || !this.readFrame(buf, at, next)) break;
          at = next;
        }
        if (at < end && !this.settled) this.sseParser().push(buf.subarray(at, end));
        break;
      }
      case Mode.Body:
        this.bodyData(buf.subarray(start, end), now);
        break;
      default:
        // The bytes are the thread's read buffer (h1.ts): copied to keep.
        (this.chunks ??= []).push(Buffer.from(buf.subarray(start, end)));
        this.bytes += end - start;
        // The status decided already: a long error body (or an endless one) is cut, not drained.
        if (this.bytes >= MAX_ERROR_BODY) {
          this.settle(verdictForStatus(this.sample.status ?? 0, this.bodyText()));
          this.cut('error_body_limit');
        }
    }
    return true;
  }

  onComplete(_trailers: string[] | null): void {
    this.wireDone = true;
    this.release();
    if (this.settled) return;
    this.at = this.clock.nowUs();
    let v: Verdict;
    switch (this.mode) {
      case Mode.Sse:
        // No parser: every event was read in bytes, and nothing is pending.
        this.sse?.end();
        v = verdictForStreamEnd(this.facts as ResponseFacts, this.sample.first_data_us !== undefined);
        break;
      case Mode.Body:
        v = verdictForBody(this.contentType, this.bodyText(), this.dialect, this.facts as ResponseFacts);
        break;
      default:
        v = verdictForStatus(this.sample.status ?? 0, this.bodyText());
    }
    this.settle(v);
  }

  onError(err: Error): void {
    this.wireDone = true;
    this.release();
    if (this.settled) return;
    this.at = this.clock.nowUs();
    const code = (err as { code?: unknown }).code;
    if (this.sample.status === undefined) {
      if (code === H1_CODES.headersOverflow) {
        this.settle({ outcome: 'protocol', detail: 'headers_too_large', error: networkMessage(err) });
        return;
      }
      if (code === H1_CODES.parse) {
        this.settle({ outcome: 'protocol', detail: 'bad_http', error: networkMessage(err) });
        return;
      }
      this.settle({ outcome: 'network', detail: networkDetail(err), error: networkMessage(err) });
      return;
    }
    const decided = this.decided();
    if (decided) return this.settle(decided);
    if (code === H1_CODES.parse) return this.settle({ outcome: 'protocol', detail: 'bad_http', error: networkMessage(err) });
    const s = this.sample;
    const queued = s.keepalives > 0 && s.first_data_us === undefined;
    this.settle({ outcome: 'network', detail: queued ? 'cut_while_queued' : 'cut_mid_stream', error: networkMessage(err) });
  }

  // ---- SSE handler (hot path) --------------------------------------------------------------------------

  onComment(_text: string): void {
    if (this.sample.first_data_us === undefined) this.keepAlive();
  }

  onMessage(event: string, data: string, _id: string): void {
    const s = this.sample;
    if (s.first_data_us === undefined) {
      // Anthropic `ping` before any content is a keep-alive in all but name.
      if (event === 'ping') return this.keepAlive();
      s.first_data_us = this.at;
    }
    const f = this.facts as ResponseFacts;
    const before = f.first_token_us;
    (this.reader as StreamReader).message(event, data, this.at);
    if (before === undefined) this.firstTokenHook();
  }

  /** An SSE line or event past the limit: a precise outcome, and the connection is cut. */
  onOverflow(what: 'line' | 'event'): void {
    const limit = Math.min(this.maxBody, SSE_MAX_LINE);
    const detail = what === 'line' ? 'line_too_long' : 'event_too_large';
    this.settle({ outcome: 'protocol', detail, error: `an SSE ${what} longer than ${limit} characters (limit: request.max_body, at most 4 MiB)` });
    this.cut(detail);
  }

  onOtherLine(line: string): void {
    const s = this.sample;
    if (s.first_data_us === undefined) s.first_data_us = this.at;
    // A raw JSON error body written into an event stream (e.g. the queue-timeout body): classify it.
    if (line.charCodeAt(0) === 123 /* { */) {
      try {
        const e = errorOf(JSON.parse(line), 'error_body');
        const f = this.facts as ResponseFacts;
        if (e) f.error ??= e;
      } catch {
        // not JSON: an unknown SSE field, ignored as the spec says
      }
    }
  }

  // ---- internals ---------------------------------------------------------------------------------------

  /** A whole-event read, `buf[start, end)`, offered to the dialect's byte path (StreamReader.frame); true when it was read there. */
  private readFrame(buf: Buffer, start: number, end: number): boolean {
    const r = this.reader as StreamReader;
    if (r.frame === undefined) return false;
    const f = this.facts as ResponseFacts;
    const before = f.first_token_us;
    if (!r.frame(buf, start, end, this.at)) return false;
    // The stream's first data event, read here (a new stream adopting another's template, template-prior.ts): as
    // onMessage would mark it.
    if (this.sample.first_data_us === undefined) {
      this.sample.first_data_us = this.at;
      this.sse?.eventReadByCaller();
    }
    if (before === undefined) this.firstTokenHook();
    return true;
  }

  /** A read of `bytes` bytes that is one whole event may be read in bytes: nothing is pending in the parser (SseParser.wholeEventFits). */
  private wholeEventFits(bytes: number): boolean {
    const sse = this.sse;
    return sse === null ? bytes - 2 <= Math.min(this.maxBody, SSE_MAX_LINE) : sse.wholeEventFits(bytes);
  }

  /**
   * The stream's parser, made now if the byte path read every event so far. After such an event the stream's start
   * is past (it began `data:`: no BOM is left to drop), as if the parser had read it.
   */
  private sseParser(): SseParser {
    let p = this.sse;
    if (p === null) {
      p = this.sse = new SseParser(this, Math.min(this.maxBody, SSE_MAX_LINE));
      if (this.sample.first_data_us !== undefined) p.eventReadByCaller();
    }
    return p;
  }

  /** After an event read with no first token before it: tells the hook once the event brought one. */
  private firstTokenHook(): void {
    const t = (this.facts as ResponseFacts).first_token_us;
    if (t !== undefined) this.hooks?.onFirstToken?.(this.req, t, this.sample.sent_us);
  }

  private keepAlive(): void {
    const s = this.sample;
    s.keepalives++;
    if (s.first_keepalive_us === undefined) s.first_keepalive_us = this.at;
    s.last_keepalive_us = this.at;
    this.hooks?.onKeepAlive?.(this.req, this.at);
  }

  /** Non-stream body: count leading blank lines (LF) as keep-alives until the first other byte. */
  private bodyData(chunk: Buffer, now: number): void {
    if (!this.sawData) {
      const n = chunk.length;
      let i = 0;
      for (; i < n; i++) {
        const b = chunk[i] as number;
        if (b === 10) this.keepAlive();
        else if (b !== 13 && b !== 32 && b !== 9) break;
      }
      if (i === n) return;
      this.sawData = true;
      this.sample.first_data_us = now;
      chunk = i === 0 ? chunk : chunk.subarray(i);
    }
    this.bytes += chunk.length;
    if (this.bytes > this.maxBody) {
      this.chunks = null;
      this.settle({ outcome: 'protocol', detail: 'body_too_large', error: `a response body longer than ${this.maxBody} bytes (request.max_body)` });
      this.cut('body_too_large');
      return;
    }
    (this.chunks ??= []).push(Buffer.from(chunk));
  }

  private bodyText(): string {
    const c = this.chunks;
    this.chunks = null;
    if (c === null) return '';
    return (c.length === 1 ? (c[0] as Buffer) : Buffer.concat(c)).toString('utf8');
  }

  /**
   * A verdict already fixed by what arrived, whatever happens next: a non-2xx status, an error reported in
   * the body, or a stream whose end marker was seen. `byCaller`: an abort keeps only the status decision.
   */
  private decided(byCaller = false): Verdict | null {
    const s = this.sample;
    if (s.status !== undefined && s.status >= 300) return verdictForStatus(s.status, this.bodyText());
    if (byCaller) return null;
    const f = this.facts;
    if (f?.error) return verdictForServerError(f.error);
    if (f?.complete && this.mode === Mode.Sse) return verdictForStreamEnd(f, true);
    return null;
  }

  private settle(v: Verdict): void {
    if (this.settled) return;
    this.settled = true;
    const s = this.sample;
    s.end_us = Math.max(this.clock.nowUs(), s.sent_us);
    s.outcome = v.outcome;
    if (v.outcome !== 'ok') s.detail = v.detail;
    if (v.error !== undefined && v.error.length > 0) {
      const e = redact(v.error, this.req.apiKey);
      s.error = this.scrub ? this.scrub(e) : e;
    }
    if (v.server_concurrency !== undefined) s.server_concurrency = v.server_concurrency;
    if (v.server_limit !== undefined) s.server_limit = v.server_limit;
    const f = this.facts;
    if (f) {
      if (f.first_token_us !== undefined) s.first_token_us = f.first_token_us;
      if (f.token_events > 0) s.token_events = f.token_events;
      if (f.usage) s.usage = f.usage;
      if (f.finish_reason !== undefined) s.finish_reason = f.finish_reason;
    }
    this.sse = null;
    this.reader = null;
    if (this.wireDone) this.release();
    this.onSettle(this);
    this.resolve(s);
  }

  /** Aborts the request on the wire (if still running) with dsprobe's own reason. */
  private cut(why: string): void {
    if (this.wireDone) return;
    const abort = this.abortFn;
    if (abort) {
      this.abortFn = null;
      abort(stopError(why));
    }
    // Not yet connected: onConnect will abort it when the pool gets to it.
  }

  /** Drops the deadline and the signal listener once nothing more can happen. */
  private release(): void {
    if (this.deadline) {
      this.deadline.cancel();
      this.deadline = null;
    }
    if (this.signal) {
      this.signal.removeEventListener('abort', this);
      this.signal = null;
    }
  }

  /** EventListener interface: the caller's abort signal fired (`this` is the listener: no closure per request). */
  handleEvent(): void {
    this.abortByCaller();
  }
}

/**
 * Where the event starting at `from` ends, if it is one line: the index after its first LF when an LF follows it
 * (`data: X` LF LF), else -1. A frame of the learned shape holds no LF before its end (its text is a JSON string).
 */
function eventEnd(b: Buffer, from: number, to: number): number {
  const lf = lfIn(b, from, to - 1);
  return lf !== -1 && b[lf + 1] === 10 ? lf + 2 : -1;
}

/** Replaces every occurrence of `secret` in `text` (a key must never reach a Sample). */
export function redact(text: string, secret: string): string {
  if (secret.length < 4 || !text.includes(secret)) return text;
  return text.split(secret).join('[redacted]');
}
