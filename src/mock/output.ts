/**
 * The engine's bottom layer: the state every layer shares (config, clock, wheel, totals) and the token
 * output, meaning headers, decode (stream frames), the non-streaming body and the two ways a response ends.
 *
 * The engine is split into layers by inheritance (EngineOutput ← MidStreamFaults ← Engine) rather than
 * helper objects or callbacks: the hot path stays plain method calls on one object, with no closure,
 * allocation or extra indirection per token. A layer reaches a method of a layer above through an abstract
 * declaration here.
 */
import type { Clock } from '../time/clock.js';
import type { Random } from '../time/random.js';
import type { Accounts } from './accounts.js';
import type { MockConfig } from './config.js';
import type { Dialect } from './dialect.js';
import type { EventBus, MockEvent, MockEventType } from './events.js';
import { SERVER_ERROR_MESSAGE } from './faults.js';
import { Phase, type Flight } from './flight.js';
import { Wheel } from './wheel.js';
import { Billing } from './billing.js';
import { anthropicDialect } from './anthropic.js';
import { openaiDialect } from './openai.js';

/** Totals since start, for /_mock/state. */
export interface Totals {
  admitted: number;
  rejected: number;
  finished: number;
  aborted: number;
  timed_out: number;
  faulted: number;
}

/**
 * The engine's shared state and token output; Engine (engine.ts) is the only concrete subclass. Abstract
 * so the scheduling and fault layers above supply `due`, `strike` and `finish`.
 */
export abstract class EngineOutput {
  readonly totals: Totals = { admitted: 0, rejected: 0, finished: 0, aborted: 0, timed_out: 0, faulted: 0 };
  /** Billed tokens and dollars per account and model (ground truth for cost checks). */
  readonly billing = new Billing();
  protected readonly wheel: Wheel<Flight>;
  protected readonly scale: number;

  constructor(
    protected readonly cfg: MockConfig,
    protected readonly clock: Clock,
    readonly accounts: Accounts,
    protected readonly events: EventBus,
    protected readonly rng: Random,
    onError: (err: unknown) => void,
  ) {
    this.scale = cfg.time_scale;
    this.wheel = new Wheel<Flight>(clock, cfg.tick_ms, (f) => this.due(f), onError);
  }

  /** The wheel's single callback (Engine). */
  protected abstract due(f: Flight): void;
  /** A mid-stream fault strikes after `after_tokens` tokens (MidStreamFaults). */
  protected abstract strike(f: Flight, now: number): void;
  /** Marks the flight done and releases its count and slot, exactly once (Engine). */
  protected abstract finish(f: Flight): void;

  /** Emits an event about `f` if anyone listens, stamped `atUs` (the time the engine acted on) or now. */
  emit(type: MockEventType, f: Flight, extra?: Partial<MockEvent>, atUs?: number): void {
    if (!this.events.active) return;
    const e: MockEvent = {
      type,
      t_ms: (atUs ?? this.clock.nowUs()) / 1000,
      id: f.seq,
      trace_id: f.traceId,
      account: f.account.cfg.name,
      model: f.model,
      user: f.user,
      stream: f.stream,
      surface: f.surface,
      ...extra,
    };
    if (f.fault) e.fault = f.fault.kind;
    this.events.emit(e);
  }

  /**
   * Streams every token due by `now` (coalesced into one write), then schedules the next chunk. Token k is
   * due at first + k × itl; chunk j holds tokens [j×c, (j+1)×c) and goes out when its first token is due,
   * so the first frame still marks the first token whatever chunk_tokens is.
   */
  protected decode(f: Flight, now: number): void {
    const total = f.reasoningTokens + f.answerTokens;
    const chunk = this.cfg.latency.chunk_tokens;
    const elapsed = now - f.firstTokenUs - f.shiftUs;
    const due = Math.min(total, f.faultAt, (1 + Math.floor(elapsed / (f.itlUs * chunk))) * chunk);
    if (due > f.emitted) {
      f.res.write(this.dialect(f).tokens(f, f.emitted, due, chunk));
      f.emitted = due;
    }
    if (f.emitted >= f.faultAt) return this.strike(f, now);
    if (f.emitted >= total) {
      f.res.write(this.dialect(f).close(f));
      return this.end(f, 'ok');
    }
    const flushUs = this.cfg.latency.flush_interval_ms * 1000 * this.scale;
    this.wheel.schedule(f, Math.max(f.firstTokenUs + f.shiftUs + f.emitted * f.itlUs, now + flushUs));
  }

  /** Non-streaming: the whole body at once (faults shape it). */
  protected finishBody(f: Flight): void {
    const total = f.reasoningTokens + f.answerTokens;
    const fault = f.faultAt < Infinity ? f.fault : undefined;
    f.emitted = Math.min(total, f.faultAt);
    if (fault?.kind === 'disconnect') return this.cut(f, 'fault');
    if (fault?.kind === 'stall') {
      f.faultAt = Infinity;
      f.phase = Phase.Stalled;
      this.wheel.schedule(f, this.clock.nowUs() + fault.duration_ms * 1000 * this.scale);
      return;
    }
    if (fault?.kind === 'finish_reason') f.finishReason = fault.reason;
    let body = this.dialect(f).body(f);
    if (fault?.kind === 'mid_stream_error') body = this.dialect(f).errorBody(500, fault.message ?? SERVER_ERROR_MESSAGE);
    if (fault?.kind === 'malformed_chunk') body = body.slice(0, body.length >> 1);
    if (!f.headersSent) {
      f.headersSent = true;
      f.res.writeHead(200, {
        'content-type': this.dialect(f).contentType(false),
        'content-length': Buffer.byteLength(body),
        'x-ds-trace-id': f.traceId,
      });
    }
    f.res.write(body);
    this.end(f, fault ? 'fault' : 'ok');
  }

  /** Ends the response normally. Events go out before the slot passes on, so `finish` precedes the next `start`. */
  protected end(f: Flight, outcome: 'ok' | 'fault'): void {
    if (outcome === 'fault') this.totals.faulted++;
    else this.totals.finished++;
    this.emit('finish', f, { tokens: f.emitted, outcome });
    this.finish(f);
    f.res.end();
  }

  /** Destroys the connection (disconnect fault, queue timeout in `cut` mode). */
  protected cut(f: Flight, outcome: 'fault' | undefined): void {
    if (outcome) {
      this.totals.faulted++;
      this.emit('finish', f, { tokens: f.emitted, outcome });
    }
    this.finish(f);
    // Flush what was written (the tokens before the cut), then close without ending the chunked body.
    const socket = f.res.socket;
    if (socket) socket.destroySoon();
    else f.res.destroy();
  }

  /** Status 200 and the headers, once, flushed now: the first body byte may be a long wait (queue, prefill) away. */
  protected sendHeaders(f: Flight): void {
    if (f.headersSent) return;
    f.headersSent = true;
    f.res.writeHead(200, {
      'content-type': this.dialect(f).contentType(f.stream),
      'cache-control': 'no-cache',
      'x-ds-trace-id': f.traceId,
    });
    f.res.flushHeaders();
  }

  /** The wire format of `f`'s surface. */
  protected dialect(f: Flight): Dialect {
    return f.surface === 'openai' ? openaiDialect : anthropicDialect;
  }
}
