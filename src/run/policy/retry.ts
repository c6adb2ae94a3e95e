/**
 * Retries of a client policy (`policy.retry`): which answers are retried, and how long to wait before the next
 * attempt (exponential backoff, capped, with jitter, at least the server's Retry-After when honoured).
 */
import type { RetrySpec } from '../../scenario/types.js';
import type { Sample } from '../../types.js';
import type { Random } from '../../time/random.js';

/** True when this attempt's answer is one the policy retries (its HTTP status is in `on`). */
export function isRetryable(spec: RetrySpec, s: Sample): boolean {
  return s.status !== undefined && spec.on.includes(s.status);
}

/**
 * The server's Retry-After in µs: seconds (`2`, `0.5`), `<n>ms` (from `retry-after-ms`), or an HTTP date
 * relative to `nowMs` (wall clock, ms). Undefined when absent or unreadable.
 */
export function retryAfterUs(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^(\d+(?:\.\d+)?)ms$/.exec(v);
  if (ms) return Math.round(Number(ms[1]) * 1000);
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1e6);
  const date = Date.parse(v);
  if (Number.isFinite(date)) return Math.max(0, Math.round((date - nowMs) * 1000));
  return undefined;
}

/**
 * The wait before the next attempt, µs, after `failed` attempts (1 = after the first): min(max, base ×
 * factor^(failed-1)), then jitter (full: uniform in [0, d]; equal: d/2 + uniform in [0, d/2]; none: d), then at
 * least `retryAfter` when the policy honours it (the server's word beats the formula, even above `max`).
 */
export function backoffUs(spec: RetrySpec, failed: number, random: Random, retryAfter?: number): number {
  const d = Math.min(spec.max_ms, spec.base_ms * Math.pow(spec.factor, Math.max(0, failed - 1))) * 1000;
  let wait = spec.jitter === 'full' ? random.next() * d : spec.jitter === 'equal' ? d / 2 + (random.next() * d) / 2 : d;
  if (spec.honor_retry_after && retryAfter !== undefined) wait = Math.max(wait, retryAfter);
  return Math.round(wait);
}
