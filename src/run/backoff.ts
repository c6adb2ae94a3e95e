/**
 * Backoff after a 429, per slot: a slot whose request was refused waits before it is refilled, so a level over
 * the cap draws about (slots over the cap) / (mean delay) refusals per second instead of thousands (an instant
 * refill turns every refused slot into a tight retry loop, which is what providers throttle and flag).
 *
 * Exponential with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th 429 in a row of
 * a slot waits uniform(0, min(cap, base × factor^(n-1))); a `Retry-After` the server sent is a floor. The count
 * resets when a request of the slot is admitted. Randomness is seeded (src/time/random.ts).
 */
import type { Random } from '../time/random.js';
import type { BackoffSpec } from '../scenario/types.js';
import { backoffCeilingMs } from '../plan/backoff.js';

/**
 * `Retry-After` in ms: delta-seconds (`2`, `0.5`), dsprobe's own `<n>ms` form (from `retry-after-ms`), or an
 * HTTP date (only with `wallNowMs`: the driver passes none, so dates are ignored). Undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, wallNowMs?: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^(\d+(?:\.\d+)?)ms$/.exec(v);
  if (ms) return Number(ms[1]);
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isFinite(date) && wallNowMs !== undefined) return Math.max(0, date - wallNowMs);
  return undefined;
}

/** Draws the delays of refused slots. One per model driver. */
export class Backoff {
  constructor(
    readonly spec: BackoffSpec,
    private readonly random: Random,
  ) {}

  /** Delay in µs before a slot refused `attempt` times in a row (from 1) is refilled; 0 when disabled. */
  delayUs(attempt: number, retryAfter?: string): number {
    if (!this.spec.enabled) return 0;
    const jittered = this.random.next() * backoffCeilingMs(this.spec, attempt);
    // A server that says when to come back is believed, but never past the cap: the cap bounds every wait.
    const floor = Math.min(retryAfterMs(retryAfter) ?? 0, Math.max(this.spec.cap_ms, 0));
    return Math.round(Math.max(jittered, floor) * 1000);
  }
}
