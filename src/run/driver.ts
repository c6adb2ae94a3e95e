/**
 * Holds one model's in-flight target exactly: a request that ends is replaced at once (closed loop with instant
 * refill; llmperf #56 shows what happens otherwise). Tracks what the server was seen holding (admitted and open)
 * and wakes whoever waits on a level's decision.
 */
import { setMaxListeners } from 'node:events';
import type { Sample } from '../types.js';
import type { Clock } from '../time/clock.js';
import { StepRecorder } from '../measure/recorder.js';
import type { Prober, ProbeRequest } from '../transport/prober.js';
import { CHARS_PER_TOKEN } from '../protocol/prompt.js';
import type { Backoff } from './backoff.js';
import { isFatalStatus } from './fatal.js';

/** Builds the request for a new send (everything but the timestamps the driver sets). */
export type RequestFactory = (
  id: number,
  stepIndex: number,
  target: number,
  inflightAtSend: number,
) => Omit<ProbeRequest, 'intended_us' | 'deadline_us'>;

export interface DriverDeps {
  model: string;
  clock: Clock;
  prober: Prober;
  makeRequest: RequestFactory;
  /** Next global request id. */
  nextId: () => number;
  /** Per-request absolute deadline offset, µs. */
  timeoutUs: number;
  /** Every finished sample (already attributed to its step). */
  onSample: (s: Sample) => void;
  /** A new step (level) began. */
  onStep?: (model: string, index: number, target: number, atUs: number) => void;
  /** 429 backoff (load.on_429): a slot that drew a 429 is refilled only after its delay. None = at once. */
  backoff?: Backoff;
  /** Asked before each send (the hard budget reserves here); false = do not send it, and stop refilling. */
  mayLaunch?: (req: Omit<ProbeRequest, 'intended_us' | 'deadline_us'>) => boolean;
  /**
   * Until the model's first answer that is not a fatal status (400/401/402/403/404), keep at most this many in
   * flight: a wrong model id or key then costs a handful of requests, not a level's worth. The gate also opens when
   * the probes have been open `firstProbeWaitUs` without an answer (a server that holds them is not refusing:
   * non-streaming responses only send headers at the end).
   */
  firstProbes?: number;
  firstProbeWaitUs?: number;
}

/**
 * An admitted request that ended without reported usage (cut, aborted, failed mid-stream) still cost tokens:
 * estimate them so budgets and the report's cost do not read zero (see Sample.usage_estimated).
 */
export function estimateUsage(s: Sample, promptChars: number): void {
  const prompt = Math.ceil(promptChars / CHARS_PER_TOKEN);
  s.usage = { prompt_tokens: prompt, completion_tokens: s.token_events ?? 0, cache_hit_tokens: 0, cache_miss_tokens: prompt, reasoning_tokens: 0 };
  s.usage_estimated = true;
}

/** Requests launched in one synchronous slice before the driver yields to the event loop. */
export const LAUNCH_BATCH = 64;

interface Open {
  ctl: AbortController;
  admitted: boolean;
  /** 429s in a row of the slot this request fills (0 once a request of the slot was admitted). */
  attempt: number;
  /** Why dsprobe aborted it, when it did. */
  ownAbort?: string;
}

/** One model's closed-loop executor. */
export class ModelDriver {
  readonly model: string;
  readonly steps: StepRecorder[] = [];
  private readonly deps: DriverDeps;
  private target = 0;
  private inflightCount = 0;
  private admittedOpen = 0;
  private readonly open = new Map<number, Open>();
  private wake: (() => void) | null = null;
  /** 429s received for requests sent during the current step. */
  private stepLimited = 0;
  private stopped = false;
  private refillPending = false;
  private refillIntendedUs = 0;
  private idle: (() => void) | null = null;
  /** Slots waiting on a 429 backoff, and the 429-in-a-row counts of slots whose wait ended. */
  private waiting = 0;
  /** Waiting slots dropped by a step down: their timers, when they fire, refill nothing. */
  private dropped = 0;
  private readonly ready: number[] = [];
  private readonly timers = new AbortController();
  /** A non-fatal answer was seen (the first-probe gate is open). */
  private answered = false;
  private stepSent = 0;
  /** Lifetime counters for the timeline. */
  completed = 0;
  limited = 0;

  constructor(deps: DriverDeps) {
    this.deps = deps;
    this.model = deps.model;
    // Every slot waiting on a backoff listens on this signal (hundreds at once over a cap).
    setMaxListeners(0, this.timers.signal);
  }

  get inflight(): number {
    return this.inflightCount;
  }
  get admitted(): number {
    return this.admittedOpen;
  }
  get currentTarget(): number {
    return this.target;
  }
  get current(): StepRecorder | undefined {
    return this.steps[this.steps.length - 1];
  }
  /** 429s drawn by requests sent in the current step. */
  get limitedThisStep(): number {
    return this.stepLimited;
  }
  /** Requests sent in the current step. */
  get sentThisStep(): number {
    return this.stepSent;
  }
  /** Slots waiting on a 429 backoff right now. */
  get backingOff(): number {
    return this.waiting;
  }

  /** Starts a new step at `level` in flight: launches the difference, or aborts the newest excess. */
  startStep(level: number): StepRecorder {
    const now = this.deps.clock.nowUs();
    const prev = this.current;
    if (prev) prev.endUs = now;
    const rec = new StepRecorder(this.model, this.steps.length, level, now, this.inflightCount);
    rec.admitted(this.admittedOpen);
    this.steps.push(rec);
    this.deps.onStep?.(this.model, rec.index, level, now);
    this.stepLimited = 0;
    this.stepSent = 0;
    this.target = level;
    // A step down drops slots waiting on a backoff first (they are over the new target), then aborts requests.
    const dropWaiting = Math.min(this.waiting, Math.max(0, this.inflightCount + this.waiting - level));
    this.waiting -= dropWaiting;
    this.dropped += dropWaiting;
    if (!this.answered && this.deps.firstProbes !== undefined && this.steps.length === 1) {
      void this.deps.clock.sleepUntil(now + (this.deps.firstProbeWaitUs ?? 1_000_000), this.timers.signal).then(() => {
        if (this.answered || this.stopped) return;
        this.answered = true;
        this.scheduleRefill(this.deps.clock.nowUs());
      });
    }
    this.refill(now);
    if (this.inflightCount > level) this.abortNewest(this.inflightCount - level, 'step_down');
    return rec;
  }

  /** Resolves when something that may decide the level happened (a 429, an admission, an end) or at `deadlineUs`. */
  async waitForChange(deadlineUs: number, signal?: AbortSignal): Promise<void> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const changed = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    await Promise.race([changed, this.deps.clock.sleepUntil(deadlineUs, ctl.signal)]);
    this.wake = null;
    ctl.abort();
    signal?.removeEventListener('abort', onAbort);
  }

  /** Stops refilling; optionally waits up to `drainUs` for open requests, then aborts the rest with `reason`. */
  async stop(drainUs: number, reason: string, signal?: AbortSignal): Promise<void> {
    this.stopped = true;
    this.target = 0;
    this.timers.abort();
    this.waiting = 0;
    if (this.inflightCount > 0 && drainUs > 0 && !signal?.aborted) {
      const drained = new Promise<void>((resolve) => {
        this.idle = resolve;
      });
      const ctl = new AbortController();
      const onAbort = () => ctl.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      await Promise.race([drained, this.deps.clock.sleepUntil(this.deps.clock.nowUs() + drainUs, ctl.signal)]);
      ctl.abort();
      signal?.removeEventListener('abort', onAbort);
    }
    if (this.inflightCount > 0) {
      const all = new Promise<void>((resolve) => {
        this.idle = resolve;
      });
      this.abortNewest(this.inflightCount, reason);
      await all;
    }
    const cur = this.current;
    if (cur && cur.endUs === null) cur.endUs = this.deps.clock.nowUs();
  }

  /**
   * Launches until the target is met, at most LAUNCH_BATCH at a time: a level of thousands is sent in slices with
   * the event loop free in between, so streams already open keep being read on time (their timestamps stay true)
   * instead of waiting behind one long synchronous burst. The deferral shows as send lag, where it belongs.
   */
  private refill(intendedUs: number): void {
    let launched = 0;
    // Slots waiting on a backoff are held for their slot: they count against the target.
    while (!this.stopped && this.inflightCount + this.waiting < this.target) {
      if (!this.answered && this.deps.firstProbes !== undefined && this.inflightCount >= this.deps.firstProbes) return;
      if (launched++ >= LAUNCH_BATCH) return this.scheduleRefill(intendedUs);
      if (!this.launch(intendedUs, this.ready.pop() ?? 0)) return;
    }
  }

  /** Refills on the next check phase; the earliest pending intended time is kept (send lag is measured from it). */
  private scheduleRefill(intendedUs: number): void {
    if (this.refillPending) {
      if (intendedUs < this.refillIntendedUs) this.refillIntendedUs = intendedUs;
      return;
    }
    this.refillPending = true;
    this.refillIntendedUs = intendedUs;
    setImmediate(() => {
      this.refillPending = false;
      this.refill(this.refillIntendedUs);
    });
  }

  private abortNewest(n: number, reason: string): void {
    const ids = [...this.open.keys()].sort((a, b) => b - a);
    for (const id of ids) {
      if (n <= 0) break;
      const o = this.open.get(id);
      if (!o || o.ownAbort) continue;
      o.ownAbort = reason;
      o.ctl.abort();
      n--;
    }
  }

  private launch(intendedUs: number, attempt: number): boolean {
    const { clock, prober } = this.deps;
    const id = this.deps.nextId();
    const rec = this.current as StepRecorder;
    const base = this.deps.makeRequest(id, rec.index, rec.target, this.inflightCount + 1);
    if (this.deps.mayLaunch && !this.deps.mayLaunch(base)) return false;
    this.inflightCount++;
    this.stepSent++;
    const now = clock.nowUs();
    rec.inflight(now, this.inflightCount);
    const req: ProbeRequest = { ...base, intended_us: intendedUs, deadline_us: now + this.deps.timeoutUs };
    const o: Open = { ctl: new AbortController(), admitted: false, attempt };
    this.open.set(id, o);
    prober
      .send(req, o.ctl.signal, {
        onHeaders: (_r, status) => {
          if (!isFatalStatus(status) && !this.answered) {
            this.answered = true;
            this.scheduleRefill(clock.nowUs());
          }
          if (status !== 429 && status < 400) {
            o.admitted = true;
            o.attempt = 0;
            this.admittedOpen++;
            this.current?.admitted(this.admittedOpen);
            this.wake?.();
          }
        },
      })
      .then((s) => this.finish(id, o, rec, s, base.system.length + base.prompt.length));
    return true;
  }

  private finish(id: number, o: Open, rec: StepRecorder, s: Sample, promptChars: number): void {
    this.open.delete(id);
    if (!s.usage && o.admitted) estimateUsage(s, promptChars);
    this.inflightCount--;
    if (o.admitted) this.admittedOpen--;
    if (o.ownAbort && s.outcome === 'aborted') s.detail = o.ownAbort;
    // An end that was not a fatal answer (a timeout, a 500) also opens the first-probe gate.
    if (!this.answered && s.outcome !== 'network' && s.outcome !== 'aborted' && !(s.status !== undefined && isFatalStatus(s.status))) this.answered = true;
    const now = this.deps.clock.nowUs();
    const cur = this.current;
    if (cur) cur.inflight(now, this.inflightCount);
    rec.add(s);
    this.completed++;
    if (s.outcome === 'rate_limited') {
      this.limited++;
      if (rec === cur) this.stepLimited++;
    }
    this.deps.onSample(s);
    if (s.outcome === 'rate_limited' && this.deps.backoff?.spec.enabled && !this.stopped) {
      // The slot waits out its backoff before it is refilled (its send lag then counts from the end of the wait).
      const attempt = o.attempt + 1;
      const at = now + this.deps.backoff.delayUs(attempt, s.retry_after);
      this.waiting++;
      void this.deps.clock.sleepUntil(at, this.timers.signal).then(() => {
        if (this.stopped) return; // stop() already released every waiting slot
        if (this.dropped > 0) {
          this.dropped--;
          return;
        }
        this.waiting--;
        this.ready.push(attempt);
        this.scheduleRefill(at);
      });
    } else {
      // Replace it after this I/O phase, not inside the socket callback: when hundreds of streams end in one poll
      // phase, their replacements go out in slices with the loop free in between (the wait counts as send lag).
      this.scheduleRefill(s.end_us);
    }
    this.wake?.();
    if (this.inflightCount === 0 && this.idle) {
      const f = this.idle;
      this.idle = null;
      f();
    }
  }
}
