/**
 * Holds one model's in-flight target exactly: a request that ends is replaced at once (closed loop with instant
 * refill; llmperf #56 shows what happens otherwise). Tracks what the server was seen holding (admitted and open)
 * and wakes whoever waits on a level's decision.
 */
import { setMaxListeners } from 'node:events';
import type { Sample } from '../types.js';
import type { Clock } from '../time/clock.js';
import { StepRecorder, attributeLate429 } from '../measure/recorder.js';
import type { Prober, ProbeHooks, ProbeRequest } from '../transport/prober.js';
import { AbortHandle } from '../transport/abort.js';
import { CHARS_PER_TOKEN } from '../protocol/prompt.js';
import type { Backoff } from './backoff.js';
import { isFatalStatus } from './fatal.js';
import { ChangeWaiter } from './change-waiter.js';
import { DueSlots } from './due-slots.js';
import { BEFORE_ANY_ANSWER, cut, OpenRequests, RETIRE_GRACE_US, type Open } from './open-requests.js';

/** Builds the request for a new send (everything but the timestamps the driver sets): a fresh object per call, which the driver completes in place. */
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
  /**
   * The prompt tokens (and prefix-cache hits) the server reported for a request of the same shape, when known
   * (cheap probes calibrate it): a cut request's usage estimate then uses the server's own count.
   */
  promptUsage?: () => { prompt: number; hit: number } | null;
  /** Grace for a retiring request to receive its status line, µs (default RETIRE_GRACE_US). */
  retireGraceUs?: number;
}

/**
 * An admitted request that ended without reported usage (cut, aborted, failed mid-stream) still cost tokens:
 * estimate them so budgets and the report's cost do not read zero (see Sample.usage_estimated).
 */
export function estimateUsage(s: Sample, promptChars: number, known?: { prompt: number; hit: number } | null): void {
  const prompt = known ? known.prompt : Math.ceil(promptChars / CHARS_PER_TOKEN);
  const hit = known ? Math.min(known.hit, prompt) : 0;
  s.usage = { prompt_tokens: prompt, completion_tokens: s.token_events ?? 0, cache_hit_tokens: hit, cache_miss_tokens: prompt - hit, reasoning_tokens: 0 };
  s.usage_estimated = true;
}

/**
 * Requests launched in one synchronous slice before the driver yields to the event loop. Refills wait for the
 * loop's check phase, one slice per turn: when a wave of streams ends at once (streams of one length keep the
 * lockstep of their level's first send), a turn of a busy loop takes several ms, and slices of 64 left the level
 * short (engine bench, pinned, 2026-12-02: case 1 held 98.2-98.7 % of 2,000 with 64, 99.3-99.6 % with 128, in three
 * alternated runs; case 4 98.1-98.6 % against 98.9-99.0 %; TTFT p99 alike within the noise). A slice of 128 keeps
 * the thread about 5 ms.
 */
export const LAUNCH_BATCH = 128;

/**
 * A level at or below what is already in flight sends nothing new by itself, and old requests prove nothing about
 * now: a search step there retires this share of the level (at least one request) so that fresh requests are sent
 * at it. Their replacements wait REFRESH_SETTLE_US, so the server has seen the cut ones go before new ones arrive.
 */
export const REFRESH_SHARE = 0.02;
export const REFRESH_SETTLE_US = 200_000;

/** How long an admission waits before it counts as fresh evidence (see ModelDriver.freshCandidate). */
export const FRESH_SKEW_MS = 10;

/** An admission that would count as fresh evidence, waiting for the reads that may take requests off its count. */
interface FreshCandidate {
  rec: StepRecorder;
  /** Its admission's place (Open.admitSeq): requests admitted before it were in its count. */
  seq: number;
  /** Admitted and open at its admission, itself included, less those since ended by the server. */
  count: number;
  atUs: number;
}

/** One model's closed-loop executor. */
export class ModelDriver {
  readonly model: string;
  readonly steps: StepRecorder[] = [];
  private readonly deps: DriverDeps;
  private target = 0;
  private inflightCount = 0;
  private admittedOpen = 0;
  /** Status lines seen so far, and open requests that have one: for Sample.overtaken_by. */
  private headersSeen = 0;
  private answeredOpen = 0;
  private readonly open: OpenRequests;
  /** The callbacks every request of this driver shares (each finds its own state by request id). */
  private readonly hooks: ProbeHooks;
  private readonly done: (s: Sample) => void;
  private readonly waiter: ChangeWaiter;
  /** 429s received for requests sent during the current step. */
  private stepLimited = 0;
  private stopped = false;
  private refillPending = false;
  /** Admissions so far (Open.admitSeq), and those waiting to count as fresh evidence (freshCandidate). */
  private admissions = 0;
  private fresh: FreshCandidate[] = [];
  /** How many of `fresh` the armed timer confirms (0: none armed). */
  private freshDue = 0;
  private readonly freshWaiters: (() => void)[] = [];
  private paused = false;
  /** When each free slot became due (a launch's send lag counts from its slot's time), oldest first. */
  private readonly due = new DueSlots();
  /** No launch is due before this (µs): the step's start, the first-probe gate's opening, a refresh settle's end. */
  private dueFloorUs = 0;
  /** No launch before this time (µs): replacements of refreshed requests wait for the server to see them go. */
  private refillNotBefore = 0;
  private refillTimer = false;
  private idle: (() => void) | null = null;
  /** Slots waiting on a 429 backoff, and the 429-in-a-row counts of slots whose wait ended. */
  private waiting = 0;
  private backoffEnd = 0;
  /** Waiting slots dropped by a step down: their timers, when they fire, refill nothing. */
  private dropped = 0;
  private readonly ready: number[] = [];
  private readonly timers = new AbortController();
  /** A non-fatal answer was seen (the first-probe gate is open); the gate held slots back before it opened. */
  private gateOpen = false;
  private gateHeld = false;
  private stepSent = 0;
  /** Admitted-and-open requests per key index and per user_id (for the per-key / per-user peaks). */
  private readonly openKey = new Map<number, number>();
  private readonly openUser = new Map<string, number>();
  /** Lifetime counters for the timeline. */
  completed = 0;
  limited = 0;

  constructor(deps: DriverDeps) {
    this.deps = deps;
    this.model = deps.model;
    this.open = new OpenRequests(deps.clock);
    this.waiter = new ChangeWaiter(deps.clock);
    this.hooks = {
      onHeaders: (r, status, atUs) => this.answered(r.id, status, atUs),
      onFirstToken: (r, atUs, sentUs) => {
        const o = this.open.byId.get(r.id);
        if (!o) return;
        o.ttftLive = true;
        o.rec.firstToken(atUs - sentUs);
      },
    };
    this.done = (s) => this.finish(s);
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
  /** When the last 429 backoff started so far ends (run clock, µs; 0 before any). */
  get backoffEndsUs(): number {
    return this.backoffEnd;
  }

  /**
   * Stops replacing finished requests until the next startStep: a decided level sends nothing more while the
   * next level's connections are opened (a request sent then would land on the next level's count).
   */
  pause(): void {
    this.paused = true;
  }

  /**
   * Starts a new step at `level` in flight: launches the difference, or retires the newest excess. With `fresh`
   * (search levels), a level that would send nothing new also retires a few more (REFRESH_SHARE), so that it gets
   * fresh evidence quickly rather than after the old requests end on their own.
   */
  startStep(level: number, fresh = false): StepRecorder {
    this.paused = false;
    const now = this.deps.clock.nowUs();
    const prev = this.current;
    if (prev) prev.endUs = now;
    const rec = new StepRecorder(this.model, this.steps.length, level, now, this.inflightCount);
    rec.admitted(this.admittedOpen);
    // Per-key / per-user peaks start from what is already open (the server counts those too).
    for (const [k, n] of this.openKey) if (n > 0) rec.openPeaks(k, n, '\u0000', 0);
    for (const [u, n] of this.openUser) if (n > 0) rec.openPeaks(-1, 0, u, n);
    this.steps.push(rec);
    this.deps.onStep?.(this.model, rec.index, level, now);
    this.stepLimited = 0;
    this.stepSent = 0;
    this.target = level;
    // A step down drops slots waiting on a backoff first (they are over the new target), then aborts requests.
    const dropWaiting = Math.min(this.waiting, Math.max(0, this.inflightCount + this.waiting - level));
    this.waiting -= dropWaiting;
    this.dropped += dropWaiting;
    if (!this.gateOpen && this.deps.firstProbes !== undefined && this.steps.length === 1) {
      void this.deps.clock.sleepUntil(now + (this.deps.firstProbeWaitUs ?? 1_000_000), this.timers.signal).then(() => {
        if (this.gateOpen || this.stopped) return;
        this.openGate();
      });
    }
    const excess = this.inflightCount - level;
    if (fresh && excess >= 0 && level > 0) {
      // Retire the refresh share first (newest admitted), then launch its replacements after the settle time.
      this.refillNotBefore = now + REFRESH_SETTLE_US;
      this.open.retireNewest(Math.max(1, Math.ceil(level * REFRESH_SHARE)), 'refresh', this.deps.retireGraceUs ?? RETIRE_GRACE_US);
    }
    // The level's slots are due from its start: those still unfilled from before it and those it adds (its ramp-up).
    this.dueFloorUs = now;
    this.due.reconcile(level - this.inflightCount - this.waiting, now);
    this.refill();
    if (this.inflightCount - this.open.retiringCount() > level) {
      this.open.retireNewest(this.inflightCount - this.open.retiringCount() - level, 'step_down', this.deps.retireGraceUs ?? RETIRE_GRACE_US);
    }
    return rec;
  }

  /** Resolves when something that may decide the level happened (a 429, an admission, an end) or at `deadlineUs`. */
  waitForChange(deadlineUs: number, signal?: AbortSignal): Promise<void> {
    return this.waiter.wait(deadlineUs, signal);
  }

  /**
   * Cuts every open request now (`reason` becomes their detail) and resolves when all have ended; the driver
   * keeps running, so the next step launches its whole level afresh. Cheap probes cut a decided level this way:
   * answers that already arrived are recorded as always, nothing more is paid for.
   */
  async cutAll(reason: string): Promise<void> {
    if (this.inflightCount === 0) return;
    const all = new Promise<void>((resolve) => {
      this.idle = resolve;
    });
    this.target = 0;
    // Retired like a step down: an answer already on its way is still read (every answer counts).
    this.open.retireNewest(this.inflightCount, reason, this.deps.retireGraceUs ?? RETIRE_GRACE_US);
    await all;
  }

  /** Stops refilling; optionally waits up to `drainUs` for open requests, then aborts the rest with `reason`. */
  async stop(drainUs: number, reason: string, signal?: AbortSignal): Promise<void> {
    this.stopped = true;
    this.target = 0;
    this.waiter.close();
    // The level ends here; the drain that follows is its own phase (StepReport.drain_ms), so the step's span and
    // achieved in-flight describe the level alone.
    const last = this.current;
    const drainStart = this.deps.clock.nowUs();
    if (last && last.endUs === null) last.endUs = drainStart;
    this.timers.abort();
    this.waiting = 0;
    // The drain waits for admitted requests only: one refused, failed or still unanswered (after the grace for its
    // status line) is cut at once rather than kept until its deadline.
    if (drainUs > 0 && !signal?.aborted) this.open.cutUnadmitted(reason, this.deps.retireGraceUs ?? RETIRE_GRACE_US);
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
      // An interrupt cuts at once; otherwise what is still open gets the grace to show its status first.
      this.open.retireNewest(this.inflightCount, reason, signal?.aborted ? 0 : (this.deps.retireGraceUs ?? RETIRE_GRACE_US));
      await all;
    }
    if (last && last.drainUs === null) last.drainUs = this.deps.clock.nowUs() - drainStart;
  }

  /**
   * Launches until the target is met, at most LAUNCH_BATCH at a time: a level of thousands is sent in slices with
   * the event loop free in between, so streams already open keep being read on time (their timestamps stay true)
   * instead of waiting behind one long synchronous burst. The deferral shows as send lag, where it belongs.
   */
  private refill(): void {
    const wait = this.refillNotBefore - this.deps.clock.nowUs();
    if (wait > 0) {
      if (!this.refillTimer) {
        this.refillTimer = true;
        void this.deps.clock.sleepUntil(this.refillNotBefore).then(() => {
          this.refillTimer = false;
          // Held back on purpose: what was due before the settle's end is due at its end.
          if (this.refillNotBefore > this.dueFloorUs) this.dueFloorUs = this.refillNotBefore;
          this.refill();
        });
      }
      return;
    }
    let launched = 0;
    // Slots waiting on a backoff are held for their slot: they count against the target.
    while (!this.stopped && !this.paused && this.inflightCount + this.waiting < this.target) {
      if (!this.gateOpen && this.deps.firstProbes !== undefined && this.inflightCount >= this.deps.firstProbes) {
        this.gateHeld = true;
        return;
      }
      if (launched++ >= LAUNCH_BATCH) return this.scheduleRefill();
      const due = this.due.take(this.dueFloorUs);
      if (!this.launch(due > this.dueFloorUs ? due : this.dueFloorUs, this.ready.pop() ?? 0)) return;
    }
    if (this.stopped || this.paused) return;
    // Every slot is sent or waits out a backoff: nothing more is due (a step down left fewer slots than were freed).
    this.due.trimTo(0);
    const cur = this.current;
    if (cur && this.target > 0 && cur.target === this.target) cur.filled(this.deps.clock.nowUs());
  }

  /** The first-probe gate opens: the slots it held back, if any, are due from now. */
  private openGate(): void {
    this.gateOpen = true;
    if (this.gateHeld) {
      const now = this.deps.clock.nowUs();
      if (now > this.dueFloorUs) this.dueFloorUs = now;
    }
    this.scheduleRefill();
  }

  /**
   * Holds back an admission that could prove its level held, or raise the level's fresh peak, until the reads that
   * may contradict it are in. The server counts a request until its answer ends there; its last bytes were then
   * written before the status line of a request the server admitted in its place, so they are on this machine by
   * the time that status line is read, but may be read after it in the same I/O phase (sockets are read in the
   * kernel's order, not the server's). Counting such a request as open would prove a level one above the cap (seen
   * on an independent server: 13 "held" against a cap of 12). So each request the server ends before the
   * candidate is confirmed, and that was admitted before it, is taken off its count. The wait, FRESH_SKEW_MS and an
   * I/O phase after it (armFresh), spans what arrived while this phase was being read, a worker thread's batch of
   * reads (within about 1 ms), and the server's two writes pulled apart by the scheduler: the first wakes this
   * process, which may run before the server writes the second (3-4 ms on this 2-core machine under load, 2026-12-03).
   * A longer skew, on a network path or a busier machine, is not seen.
   */
  private freshCandidate(rec: StepRecorder, seq: number, count: number, atUs: number): void {
    if (rec.freshHeldAt !== null && count <= rec.freshPeakAdmitted) return; // proves nothing new
    this.fresh.push({ rec, seq, count, atUs });
    if (this.freshDue === 0) this.armFresh();
  }

  /**
   * Confirms what is pending now after FRESH_SKEW_MS (a real timer: the wait is for reads, not for the run's clock)
   * and then one I/O phase more (a check phase comes after the poll phase of its loop turn): a busy turn may outlast
   * the timer, and what arrived while it ran is read only in the next poll phase.
   */
  private armFresh(): void {
    this.freshDue = this.fresh.length;
    setTimeout(this.freshAfterPoll, FRESH_SKEW_MS);
  }

  private readonly freshAfterPoll = (): void => void setImmediate(this.freshTick);

  private readonly freshTick = (): void => {
    const due = this.fresh.splice(0, this.freshDue);
    this.freshDue = 0;
    for (const c of due) c.rec.freshAdmission(c.count, c.atUs);
    if (this.fresh.length > 0) this.armFresh();
    else for (const f of this.freshWaiters.splice(0)) f();
    if (due.length > 0) this.waiter.changed();
  };

  /** Resolves once no admission waits for confirmation (a level is judged on confirmed evidence only). */
  freshSettled(): Promise<void> {
    if (this.fresh.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.freshWaiters.push(resolve));
  }

  /** Refills on the next check phase (each launch's send lag counts from its slot's due time). */
  private scheduleRefill(): void {
    if (this.refillPending) return;
    this.refillPending = true;
    setImmediate(this.refillSoon);
  }

  private readonly refillSoon = (): void => {
    this.refillPending = false;
    this.refill();
  };

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
    // The factory's object is fresh per call: completed in place rather than copied.
    const req = base as ProbeRequest;
    req.intended_us = intendedUs;
    req.deadline_us = now + this.deps.timeoutUs;
    // Every field it may get, from the start: one object of one shape, no property store added as it goes.
    const o: Open = {
      ctl: null,
      admitted: false,
      attempt,
      answered: false,
      ownAbort: undefined,
      retiring: undefined,
      cutUnanswered: undefined,
      keyIndex: base.key_index,
      userId: base.user_id ?? '',
      ttftLive: undefined,
      headersAtSend: this.headersSeen,
      unansweredAtSend: this.inflightCount - 1 - this.answeredOpen,
      overtakenBy: undefined,
      rec,
      admitSeq: 0,
      promptChars: base.system.length + base.prompt.length,
    };
    this.open.byId.set(id, o);
    rec.sent(o.keyIndex, o.userId);
    // Shared callbacks (found by request id): nothing made per request but the request's own state. An in-process
    // prober starts it with no promise or signal (its exchange is the abort); a worker pool's is sent.
    if (prober.start) o.ctl = prober.start(req, this.hooks, this.done);
    else {
      const h = new AbortHandle();
      o.ctl = h;
      void prober.send(req, h.signal, this.hooks).then(this.done);
    }
    return true;
  }

  /** The request's status line arrived. */
  private answered(id: number, status: number, atUs: number): void {
    const o = this.open.byId.get(id);
    if (!o) return;
    o.answered = true;
    // Status lines that came in since this request was sent, beyond what the requests open before it could
    // account for, belong to requests sent after it: the server saw those first.
    const overtaken = this.headersSeen - o.headersAtSend - o.unansweredAtSend;
    if (overtaken > 0) o.overtakenBy = overtaken;
    this.headersSeen++;
    this.answeredOpen++;
    if (!isFatalStatus(status) && !this.gateOpen) this.openGate();
    if (status !== 429 && status < 400) {
      o.admitted = true;
      o.attempt = 0;
      this.admittedOpen++;
      const cur = this.current;
      cur?.admitted(this.admittedOpen);
      o.admitSeq = ++this.admissions;
      // Fresh evidence: a request sent in this step admitted while the server held the whole level. Held back
      // until the reads that may take requests off its count are in (freshCandidate).
      if (o.rec === cur) this.freshCandidate(cur, o.admitSeq, this.admittedOpen, atUs);
      this.openBy(o, +1);
      // A retiring request answered at last: cut it now that its status is known (after this callback).
      if (o.retiring) queueMicrotask(() => cut(o));
      this.waiter.changed();
    }
  }

  private openBy(o: Open, d: number): void {
    const k = (this.openKey.get(o.keyIndex) ?? 0) + d;
    this.openKey.set(o.keyIndex, k);
    const u = (this.openUser.get(o.userId) ?? 0) + d;
    this.openUser.set(o.userId, u);
    if (d > 0) this.current?.openPeaks(o.keyIndex, k, o.userId, u);
  }

  private finish(s: Sample): void {
    const o = this.open.byId.get(s.id);
    if (!o) return;
    this.open.byId.delete(s.id);
    const rec = o.rec;
    if (!s.usage && o.admitted) estimateUsage(s, o.promptChars, this.deps.promptUsage?.());
    this.inflightCount--;
    if (o.answered) this.answeredOpen--;
    if (o.overtakenBy !== undefined) s.overtaken_by = o.overtakenBy;
    // An end that was not a fatal answer (a timeout, a 500) also opens the first-probe gate.
    if (!this.gateOpen && s.outcome !== 'network' && s.outcome !== 'aborted' && !(s.status !== undefined && isFatalStatus(s.status))) this.openGate();
    if (o.admitted) {
      this.admittedOpen--;
      this.openBy(o, -1);
      // Ended by the server (not cut by dsprobe) while an admission counting it waits: perhaps before it.
      if (this.fresh.length > 0 && !o.ownAbort) for (const c of this.fresh) if (o.admitSeq < c.seq) c.count--;
    }
    if (o.ownAbort && s.outcome === 'aborted') {
      // Precise about what was known: cut with its status (kept in s.status), or before any answer at all.
      const unanswered = s.status === undefined;
      s.detail = unanswered ? o.ownAbort + BEFORE_ANY_ANSWER : o.ownAbort;
      if (unanswered) s.error = `dsprobe cut it (${o.ownAbort}) before any answer arrived`;
    }
    const now = this.deps.clock.nowUs();
    // A request dsprobe cut is closed on our side only: its replacement waits until the server has seen it go, or
    // it arrives while the server still counts the cut one and draws a 429 the level did not earn.
    if (o.ownAbort && !this.stopped && now + REFRESH_SETTLE_US > this.refillNotBefore) this.refillNotBefore = now + REFRESH_SETTLE_US;
    const cur = this.current;
    if (cur) cur.inflight(now, this.inflightCount);
    rec.add(s, o.ttftLive);
    this.completed++;
    if (s.outcome === 'rate_limited') {
      this.limited++;
      if (rec === cur) this.stepLimited++;
      else {
        // Sent at a lower level, refused once a higher one was current: evidence against the higher level.
        const at = attributeLate429(this.steps, rec, s.headers_us ?? s.end_us);
        if (at) {
          rec.lateLimited(at);
          if (at === cur) this.stepLimited++;
        }
      }
    }
    this.deps.onSample(s);
    if (s.outcome === 'rate_limited' && this.deps.backoff?.spec.enabled && !this.stopped) {
      // The slot waits out its backoff before it is refilled (its send lag then counts from the end of the wait).
      const attempt = o.attempt + 1;
      const at = now + this.deps.backoff.delayUs(attempt, s.retry_after);
      if (at > this.backoffEnd) this.backoffEnd = at;
      this.waiting++;
      void this.deps.clock.sleepUntil(at, this.timers.signal).then(() => {
        if (this.stopped) return; // stop() already released every waiting slot
        if (this.dropped > 0) {
          this.dropped--;
          return;
        }
        this.waiting--;
        this.ready.push(attempt);
        this.due.push(at);
        this.scheduleRefill();
      });
    } else {
      // Replace it after this I/O phase, not inside the socket callback: when hundreds of streams end in one poll
      // phase, their replacements go out in slices with the loop free in between (the wait counts as send lag).
      this.due.push(s.end_us);
      this.scheduleRefill();
    }
    this.waiter.changed();
    if (this.inflightCount === 0 && this.idle) {
      const f = this.idle;
      this.idle = null;
      f();
    }
  }
}
