/**
 * The arithmetic of 429 backoff (`load.on_429`), shared by the driver (run/backoff.ts draws the delays) and
 * `dsprobe plan` (which predicts the refusals a level over the cap draws).
 */
import type { BackoffSpec } from '../scenario/types.js';

/** The upper bound of the n-th (from 1) delay in a row, ms, before jitter: min(cap, base × factor^(n-1)). */
export function backoffCeilingMs(spec: BackoffSpec, attempt: number): number {
  return Math.min(spec.cap_ms, spec.base_ms * Math.pow(spec.factor, Math.max(0, attempt - 1)));
}

/**
 * Expected refusals of one slot held over the cap for `holdMs`: the first refusal at once, then one after each
 * mean delay (half the ceiling, full jitter), the ceiling growing with every refusal in a row. With backoff off,
 * one per round trip.
 */
export function expectedRefusalsPerSlot(spec: BackoffSpec, holdMs: number, rttMs: number): number {
  const rtt = Math.max(1, rttMs);
  if (!spec.enabled) return Math.max(1, Math.floor(holdMs / rtt));
  let t = 0;
  let n = 0;
  while (t <= holdMs && n < 1_000_000) {
    n++;
    t += Math.max(rtt, backoffCeilingMs(spec, n) / 2);
  }
  return n;
}
