/**
 * Precise waits for open-loop pacing. A timer alone wakes a millisecond or more late (timers have millisecond
 * resolution and fire after the poll phase), which at 2,000 arrivals/s is two arrivals late. So: sleep on the
 * clock until shortly before the deadline, then yield with setImmediate (I/O keeps being served in between)
 * until the deadline passes.
 */
import type { Clock } from './clock.js';

/** How long before a deadline the timer hands over to check-phase polling, µs. */
export const SPIN_US = 1500;

/** A wait until an absolute deadline on a clock. */
export type Waiter = (deadlineUs: number, signal?: AbortSignal) => Promise<void>;

/** Waits until `deadlineUs` on `clock`, late by at most about one event-loop turn when the loop is free. */
export function preciseWaiter(clock: Clock): Waiter {
  return async (deadlineUs, signal) => {
    if (deadlineUs - clock.nowUs() > SPIN_US) await clock.sleepUntil(deadlineUs - SPIN_US, signal);
    while (clock.nowUs() < deadlineUs && !signal?.aborted) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
}
