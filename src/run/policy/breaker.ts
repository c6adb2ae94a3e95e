/**
 * The circuit breaker of a client policy (`policy.breaker`): closed, it counts attempts in a rolling window and
 * opens when at least `open_when` of them drew 429 or 5xx (once the window holds `min_attempts`); open, it lets
 * nothing through for `cool_off`; then half-open, it lets `canaries` requests through: all succeed and it closes
 * (with an empty window), one fails and it opens again. Time is passed in (µs), so it is a pure state machine.
 */
import type { BreakerSpec } from '../../scenario/types.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What the breaker says to an attempt about to be sent. */
export type Admission = 'pass' | 'canary' | 'reject';

export class CircuitBreaker {
  private st: BreakerState = 'closed';
  /** Window of (time µs, failed) in time order, as parallel arrays with a moving head. */
  private times: number[] = [];
  private fails: boolean[] = [];
  private head = 0;
  private failedInWindow = 0;
  private openedAt = 0;
  private canariesOut = 0;
  private canariesOk = 0;
  /** Time spent not closed, µs, up to the last state change. */
  private notClosedUs = 0;
  private notClosedSince: number | null = null;
  /** How many times it opened. */
  opens = 0;
  /** Canary attempts let through. */
  canariesSent = 0;
  /** Canaries that failed (each reopened the breaker). */
  canariesFailed = 0;
  /** State changes with their time (µs), for the report's timeline. */
  readonly changes: { t_us: number; state: BreakerState }[] = [];

  constructor(private readonly spec: BreakerSpec) {}

  /** The state at `nowUs` (an open breaker whose cool-off ended is half-open). */
  state(nowUs: number): BreakerState {
    if (this.st === 'open' && nowUs >= this.openedAt + this.spec.cool_off_ms * 1000) this.become('half_open', this.openedAt + this.spec.cool_off_ms * 1000);
    return this.st;
  }

  /** May an attempt go now? `canary` attempts must report back with canary = true. */
  admit(nowUs: number): Admission {
    const s = this.state(nowUs);
    if (s === 'closed') return 'pass';
    if (s === 'open') return 'reject';
    if (this.canariesOut + this.canariesOk >= this.spec.canaries) return 'reject';
    this.canariesOut++;
    this.canariesSent++;
    return 'canary';
  }

  /** A canary admitted but never sent (dropped by the in-flight guard): its turn goes back. */
  cancelCanary(): void {
    this.canariesOut--;
    this.canariesSent--;
  }

  /** An attempt ended; `failed` = it drew 429 or 5xx. */
  record(nowUs: number, failed: boolean, canary: boolean): void {
    if (canary) {
      this.canariesOut--;
      if (this.st !== 'half_open') return;
      if (failed) {
        this.canariesFailed++;
        this.open(nowUs);
      } else if (++this.canariesOk >= this.spec.canaries) {
        this.become('closed', nowUs);
        this.clearWindow();
      }
      return;
    }
    // Answers to attempts sent before it opened still count towards the window while closed only.
    if (this.st !== 'closed') return;
    this.times.push(nowUs);
    this.fails.push(failed);
    if (failed) this.failedInWindow++;
    this.prune(nowUs);
    const n = this.times.length - this.head;
    if (n >= this.spec.min_attempts && this.failedInWindow / n >= this.spec.open_when) this.open(nowUs);
  }

  /** Time spent open or half-open up to `nowUs`, µs. */
  openUs(nowUs: number): number {
    return this.notClosedUs + (this.notClosedSince === null ? 0 : nowUs - this.notClosedSince);
  }

  private open(nowUs: number): void {
    this.openedAt = nowUs;
    this.canariesOk = 0;
    this.opens++;
    this.become('open', nowUs);
  }

  private become(s: BreakerState, atUs: number): void {
    if (s === this.st) return;
    if (this.st === 'closed') this.notClosedSince = atUs;
    if (s === 'closed' && this.notClosedSince !== null) {
      this.notClosedUs += atUs - this.notClosedSince;
      this.notClosedSince = null;
    }
    this.st = s;
    this.changes.push({ t_us: atUs, state: s });
  }

  private prune(nowUs: number): void {
    const from = nowUs - this.spec.window_ms * 1000;
    while (this.head < this.times.length && (this.times[this.head] as number) < from) {
      if (this.fails[this.head]) this.failedInWindow--;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.fails = this.fails.slice(this.head);
      this.head = 0;
    }
  }

  private clearWindow(): void {
    this.times = [];
    this.fails = [];
    this.head = 0;
    this.failedInWindow = 0;
  }
}
