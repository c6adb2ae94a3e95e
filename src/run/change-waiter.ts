/**
 * What a level's decision loop waits on: the next change that may decide it (a 429, an admission, an end), its
 * deadline, or the run's abort. The loop waits again after every admission of a level of thousands, so a wait is
 * one promise: the deadline's timer is armed once per deadline and the abort signal listened to once, not per wait
 * (a timer, an AbortController and two listeners per wait cost a tenth of the thread while a level ramped).
 */
import type { Clock } from '../time/clock.js';
import { OWN_CUT } from '../transport/quiet-abort.js';

export class ChangeWaiter {
  private readonly clock: Clock;
  private resolve: (() => void) | null = null;
  private deadlineUs = -1;
  private timer: AbortController | null = null;
  private signal: AbortSignal | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Something changed: the loop waiting now (if any) goes on. */
  readonly changed = (): void => {
    const r = this.resolve;
    if (r === null) return;
    this.resolve = null;
    r();
  };

  /** Resolves at the next change, at `deadlineUs`, or when `signal` aborts. */
  wait(deadlineUs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || this.clock.nowUs() >= deadlineUs) return Promise.resolve();
    if (deadlineUs !== this.deadlineUs) {
      this.timer?.abort(OWN_CUT);
      const ctl = new AbortController();
      this.timer = ctl;
      this.deadlineUs = deadlineUs;
      void this.clock.sleepUntil(deadlineUs, ctl.signal).then(() => {
        if (ctl.signal.aborted) return;
        this.timer = null;
        this.deadlineUs = -1;
        this.changed();
      });
    }
    if (signal && signal !== this.signal) {
      this.signal = signal;
      signal.addEventListener('abort', this.changed, { once: true });
    }
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }

  /** No more waits: the deadline's timer is cleared (a pending one would keep the process up until it fires). */
  close(): void {
    this.timer?.abort(OWN_CUT);
    this.timer = null;
    this.deadlineUs = -1;
    this.signal?.removeEventListener('abort', this.changed);
    this.signal = undefined;
    this.changed();
  }
}
