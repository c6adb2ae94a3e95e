/**
 * The scheduler: runs admitted requests through hold (slow_headers), queue (keep-alives, queue timeout),
 * prefill and decode on one shared timer wheel, with a server-wide pool of running slots per model.
 * A slot and the account's count are released exactly once: when the response ends or the client leaves.
 *
 * Engine is the top of three layers: the token output and shared state (output.ts) and mid-stream faults
 * (midstream.ts) sit below it, so this file is only the request lifecycle.
 */
import type { ServerResponse } from 'node:http';
import type { AccountState } from './accounts.js';
import { FALLBACK_CAP, type FaultConfig } from './config.js';
import { KEEPALIVE_BODY, KEEPALIVE_STREAM } from './dialect.js';
import type { MockEvent } from './events.js';
import { SERVER_ERROR_MESSAGE } from './faults.js';
import { Flight, Phase } from './flight.js';
import { MidStreamFaults } from './midstream.js';
import { prefixCacheHit, type ChatRequest } from './request.js';

/** Totals since start, for /_mock/state (kept where EngineOutput counts them; re-exported for state.ts). */
export type { Totals } from './output.js';

/** Running slots of one model, server-wide, and the FIFO of flights waiting for one. */
export class Pool {
  running = 0;
  /** Flights in the wait list (forced_queue flights are queued but not here). */
  waiting = 0;
  readonly list: Flight[] = [];
  head = 0;
  constructor(readonly slots: number) {}
}

const FLIGHT = Symbol('dsprobe.mock.flight');
type TaggedResponse = ServerResponse & { [FLIGHT]?: Flight; engine?: Engine };

/** Shared 'close' handler: no closure per request; the flight hangs off the response. */
function onResponseClose(this: TaggedResponse): void {
  const f = this[FLIGHT];
  if (f && f.phase !== Phase.Done) this.engine?.clientGone(f);
}

/** The mock's request engine. */
export class Engine extends MidStreamFaults {
  readonly pools = new Map<string, Pool>();
  private seq = 0;

  /** A new request sequence number (rejected requests use one too). */
  nextSeq(): number {
    return ++this.seq;
  }

  /** The pool of `model`, created on first use. */
  pool(model: string): Pool {
    let p = this.pools.get(model);
    if (!p) this.pools.set(model, (p = new Pool(this.cfg.slots[model] ?? Infinity)));
    return p;
  }

  /** Stops the wheel (the server closes the sockets). */
  stop(): void {
    this.wheel.stop();
  }

  /** Takes over an admitted request (already counted by Accounts.tryAdmit). */
  admit(seq: number, traceId: string, req: ChatRequest, surface: Flight['surface'], acc: AccountState, res: ServerResponse, fault: FaultConfig | undefined): void {
    const now = this.clock.nowUs();
    const lat = this.cfg.latency;
    const f = new Flight();
    f.seq = seq;
    f.traceId = traceId;
    f.surface = surface;
    f.stream = req.stream;
    f.thinking = req.thinking;
    f.model = req.model;
    f.user = req.user;
    f.account = acc;
    f.res = res;
    f.fault = fault;
    f.admittedUs = now;
    f.created = Math.floor(Date.now() / 1000);
    f.wordSeed = (this.rng.next() * 0x100000000) >>> 0;
    f.id = this.dialect(f).newId(seq, this.cfg.seed);
    f.promptTokens = req.promptTokens;
    f.hitTokens = prefixCacheHit(acc.prefixes, req);
    let r = req.thinking ? this.rng.int(lat.reasoning_tokens.min, lat.reasoning_tokens.max) : 0;
    let a = this.rng.int(lat.answer_tokens.min, lat.answer_tokens.max);
    if (req.maxTokens !== undefined && r + a > req.maxTokens) {
      f.finishReason = 'length';
      r = Math.min(r, req.maxTokens);
      a = req.maxTokens - r;
    }
    f.reasoningTokens = r;
    f.answerTokens = a;
    (res as TaggedResponse)[FLIGHT] = f;
    (res as TaggedResponse).engine = this;
    res.on('close', onResponseClose);
    this.totals.admitted++;
    this.emit('admit', f, undefined, now);

    switch (fault?.kind) {
      case 'balance_drain':
        acc.balance = fault.amount === undefined ? 0 : acc.balance - fault.amount;
        break;
      case 'disconnect':
      case 'stall':
      case 'malformed_chunk':
      case 'mid_stream_error':
      case 'finish_reason':
        f.faultAt = fault.after_tokens;
        break;
      case 'slow_headers':
        f.phase = Phase.Hold;
        this.wheel.schedule(f, now + fault.duration_ms * 1000 * this.scale);
        return;
      case 'error_after_headers':
        this.sendHeaders(f);
        this.failAfterHeaders(f, fault.message ?? SERVER_ERROR_MESSAGE);
        return;
      case 'blank_only':
        this.sendHeaders(f);
        f.phase = Phase.Blank;
        f.queueDeadlineUs = now + fault.duration_ms * 1000 * this.scale;
        this.keepalive(f, now);
        return;
    }
    this.proceed(f, now);
  }

  /** After admission (or a slow_headers hold): start now, or queue. */
  private proceed(f: Flight, now: number): void {
    if (f.fault?.kind === 'forced_queue') {
      f.forcedQueue = true;
      this.enqueue(f, now, now + f.fault.duration_ms * 1000 * this.scale);
      return;
    }
    const p = this.pool(f.model);
    if (p.running < p.slots) this.start(f, now);
    else {
      f.inWaitList = true;
      p.waiting++;
      p.list.push(f);
      this.enqueue(f, now, now + this.cfg.queue_timeout_ms * 1000 * this.scale);
    }
  }

  private enqueue(f: Flight, now: number, deadline: number): void {
    this.sendHeaders(f);
    f.phase = Phase.Queued;
    f.queuedAtUs = now;
    f.queueDeadlineUs = deadline;
    f.account.counter(f.model).queued++;
    this.emit('queue', f, undefined, now);
    this.keepalive(f, now);
  }

  /** Schedules the next keep-alive, or the deadline if it comes first. */
  private keepalive(f: Flight, now: number): void {
    this.wheel.schedule(f, Math.min(now + this.cfg.keepalive_interval_ms * 1000 * this.scale, f.queueDeadlineUs));
  }

  /** Inference starts: takes a slot, draws the latency, schedules the first token. */
  private start(f: Flight, now: number): void {
    const p = this.pool(f.model);
    p.running++;
    f.running = true;
    const wasQueued = f.phase === Phase.Queued;
    if (wasQueued) f.account.counter(f.model).queued--;
    f.phase = Phase.Prefill;
    f.startUs = now;
    const lat = this.cfg.latency;
    const ref = Number.isFinite(p.slots) ? p.slots : (this.cfg.caps[f.model] ?? FALLBACK_CAP);
    const slow = 1 + (lat.load_slowdown * p.running) / Math.max(1, ref);
    f.itlUs = Math.max(1, lat.inter_token_ms * 1000 * this.scale * slow * this.jitter());
    f.prefillUs = (lat.prefill_overhead_ms + lat.prefill_per_token_ms * (f.promptTokens - f.hitTokens)) * 1000 * this.scale * this.jitter();
    this.emit('start', f, { queued_ms: (now - f.admittedUs) / 1000 }, now);
    if (f.stream) {
      this.sendHeaders(f);
      const open = this.dialect(f).open(f);
      if (open) f.res.write(open);
    }
    this.wheel.schedule(f, now + f.prefillUs);
  }

  private jitter(): number {
    const j = this.cfg.latency.jitter;
    return j > 0 ? 1 + j * (2 * this.rng.next() - 1) : 1;
  }

  /** The wheel's single callback. */
  protected override due(f: Flight): void {
    const now = this.clock.nowUs();
    switch (f.phase) {
      case Phase.Hold:
        this.proceed(f, now);
        return;
      case Phase.Queued:
        if (now < f.queueDeadlineUs) {
          f.res.write(f.stream ? KEEPALIVE_STREAM : KEEPALIVE_BODY);
          this.keepalive(f, now);
        } else if (f.forcedQueue) {
          f.forcedQueue = false;
          f.account.counter(f.model).queued--;
          f.phase = Phase.Hold;
          this.proceedAfterForced(f, now);
        } else this.timeout(f, now);
        return;
      case Phase.Blank:
        if (now < f.queueDeadlineUs) {
          f.res.write(f.stream ? KEEPALIVE_STREAM : KEEPALIVE_BODY);
          this.keepalive(f, now);
        } else this.end(f, 'fault');
        return;
      case Phase.Prefill:
        f.firstTokenUs = now;
        f.phase = Phase.Decode;
        this.emit('first_token', f, undefined, now);
        if (!f.stream) {
          // Non-streaming: one wake-up when the whole answer would have been generated.
          const n = Math.min(f.reasoningTokens + f.answerTokens, f.faultAt);
          this.wheel.schedule(f, now + Math.max(0, n - 1) * f.itlUs);
          return;
        }
        this.decode(f, now);
        return;
      case Phase.Stalled:
        f.phase = Phase.Decode;
        if (f.stream) this.decode(f, now);
        else this.finishBody(f);
        return;
      case Phase.Decode:
        if (f.stream) this.decode(f, now);
        else this.finishBody(f);
        return;
    }
  }

  /** A forced_queue wait ended: take a slot if one is free, else join the wait list (keeping the admission time). */
  private proceedAfterForced(f: Flight, now: number): void {
    const p = this.pool(f.model);
    if (p.running < p.slots) return this.start(f, now);
    f.inWaitList = true;
    p.waiting++;
    p.list.push(f);
    f.phase = Phase.Queued;
    f.account.counter(f.model).queued++;
    f.queueDeadlineUs = f.admittedUs + this.cfg.queue_timeout_ms * 1000 * this.scale;
    this.keepalive(f, now);
  }

  private timeout(f: Flight, now: number): void {
    this.totals.timed_out++;
    this.emit('timeout', f, { queued_ms: (now - f.admittedUs) / 1000 }, now);
    if (this.cfg.queue_timeout_mode === 'cut') return this.cut(f, undefined);
    const d = this.dialect(f);
    const msg = this.cfg.queue_timeout_message;
    f.res.write(f.stream ? d.streamError(f, msg, f.surface === 'openai' ? 'server_error' : 'api_error') : `{"error":{"message":${JSON.stringify(msg)}}}`);
    this.finish(f);
    f.res.end();
  }

  /** The client went away before the end. */
  clientGone(f: Flight): void {
    const now = this.clock.nowUs();
    const extra: Partial<MockEvent> = { reason: phaseName(f.phase), tokens: f.emitted };
    if (f.phase === Phase.Queued) extra.queued_ms = (now - f.admittedUs) / 1000;
    this.totals.aborted++;
    this.emit('abort', f, extra, now);
    this.finish(f);
  }

  /** Marks the flight done and releases its count and slot, exactly once; a freed slot goes to the next waiter. */
  protected override finish(f: Flight): void {
    if (f.phase === Phase.Done) return;
    const wasQueued = f.phase === Phase.Queued;
    f.phase = Phase.Done;
    this.wheel.cancel(f);
    // Billed like the real API: the prompt, plus the output tokens streamed before the end or the cut.
    this.billing.bill(f.account.cfg.name, f.model, f.promptTokens, f.hitTokens, f.emitted);
    const c = f.account.counter(f.model);
    if (wasQueued) c.queued--;
    this.accounts.release(f.account, f.model, f.user);
    const p = this.pool(f.model);
    if (f.inWaitList) {
      f.inWaitList = false;
      p.waiting--;
    }
    if (!f.running) return;
    f.running = false;
    p.running--;
    const now = this.clock.nowUs();
    while (p.running < p.slots && p.head < p.list.length) {
      const next = p.list[p.head]!;
      p.list[p.head++] = undefined as unknown as Flight;
      if (!next.inWaitList) continue;
      next.inWaitList = false;
      p.waiting--;
      this.start(next, now);
    }
    if (p.head > 1024 && p.head * 2 > p.list.length) {
      p.list.splice(0, p.head);
      p.head = 0;
    }
  }
}

function phaseName(p: Phase): string {
  return ['hold', 'queued', 'prefill', 'decode', 'stalled', 'blank', 'done'][p] ?? 'unknown';
}
