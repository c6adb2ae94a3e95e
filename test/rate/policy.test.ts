import { describe, expect, test } from 'vitest';
import { backoffUs, retryAfterUs, isRetryable } from '../../src/run/policy/retry.js';
import { CircuitBreaker } from '../../src/run/policy/breaker.js';
import { ClientPool } from '../../src/run/policy/pool.js';
import { manualClock } from '../../src/time/clock.js';
import { seededRandom } from '../../src/time/random.js';
import type { RetrySpec } from '../../src/scenario/types.js';
import type { Sample } from '../../src/types.js';

const retry = (over: Partial<RetrySpec> = {}): RetrySpec => ({ on: [429, 503], max_attempts: 6, base_ms: 1000, factor: 2, max_ms: 60_000, jitter: 'none', honor_retry_after: true, ...over });

describe('retry', () => {
  test('exponential, capped; jitter stays inside its range; Retry-After is a floor when honoured', () => {
    expect([1, 2, 3, 4, 7, 8].map((n) => backoffUs(retry(), n, seededRandom(1)))).toEqual([1e6, 2e6, 4e6, 8e6, 60e6, 60e6]);
    const r = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const full = backoffUs(retry({ jitter: 'full' }), 3, r);
      expect(full).toBeGreaterThanOrEqual(0);
      expect(full).toBeLessThanOrEqual(4e6);
      const equal = backoffUs(retry({ jitter: 'equal' }), 3, r);
      expect(equal).toBeGreaterThanOrEqual(2e6);
      expect(equal).toBeLessThanOrEqual(4e6);
    }
    expect(backoffUs(retry(), 1, r, 5e6)).toBe(5e6);
    expect(backoffUs(retry({ honor_retry_after: false }), 1, r, 5e6)).toBe(1e6);
  });

  test('Retry-After in seconds, milliseconds or as a date', () => {
    expect(retryAfterUs('2')).toBe(2e6);
    expect(retryAfterUs('0.5')).toBe(5e5);
    expect(retryAfterUs('250ms')).toBe(250_000);
    expect(retryAfterUs(new Date(10_000).toUTCString(), 7_000)).toBe(3e6);
    expect(retryAfterUs('soon')).toBeUndefined();
    expect(retryAfterUs(undefined)).toBeUndefined();
  });

  test('only the listed statuses are retried', () => {
    const s = (status?: number) => ({ status }) as Sample;
    expect(isRetryable(retry(), s(429))).toBe(true);
    expect(isRetryable(retry(), s(503))).toBe(true);
    expect(isRetryable(retry(), s(500))).toBe(false);
    expect(isRetryable(retry(), s(undefined))).toBe(false);
  });
});

describe('circuit breaker', () => {
  const spec = { window_ms: 1000, open_when: 0.5, min_attempts: 4, cool_off_ms: 100, canaries: 2 };
  test('waits for min_attempts, opens at the share, cools off, and closes only when every canary succeeds', () => {
    const b = new CircuitBreaker(spec);
    b.record(0, true, false);
    b.record(1, true, false);
    b.record(2, true, false);
    expect(b.state(3)).toBe('closed'); // three attempts: under min_attempts
    b.record(4, false, false);
    expect(b.state(4)).toBe('open'); // 3 of 4 failed
    expect(b.admit(50_000)).toBe('reject');
    expect(b.admit(100_004)).toBe('canary');
    expect(b.admit(100_004)).toBe('canary');
    expect(b.admit(100_004)).toBe('reject'); // two canaries out
    b.record(100_010, true, true); // a canary failed: open again
    expect(b.state(100_010)).toBe('open');
    b.record(100_011, false, true); // the other one's answer no longer matters
    expect(b.admit(200_010)).toBe('canary');
    expect(b.admit(200_010)).toBe('canary');
    b.record(200_020, false, true);
    expect(b.state(200_020)).toBe('half_open');
    b.record(200_030, false, true);
    expect(b.state(200_030)).toBe('closed');
    expect(b.opens).toBe(2);
    expect(b.canariesSent).toBe(4);
    expect(b.canariesFailed).toBe(1);
    expect(b.openUs(300_000)).toBe(200_030 - 4);
  });

  test('old attempts leave the window', () => {
    const b = new CircuitBreaker(spec);
    for (let i = 0; i < 3; i++) b.record(i, true, false);
    for (let i = 0; i < 4; i++) b.record(2_000_000 + i, false, false);
    b.record(2_000_010, true, false);
    expect(b.state(2_000_010)).toBe('closed'); // 1 of 5 in the window
  });
});

describe('client pool', () => {
  test('FIFO grants, timeouts on the clock, abortAll', async () => {
    const clock = manualClock();
    const pool = new ClientPool(1, clock);
    expect(pool.acquire(null)).toBe('granted');
    const order: string[] = [];
    const a = Promise.resolve(pool.acquire(null)).then((g) => order.push(`a:${g}`));
    const b = Promise.resolve(pool.acquire(5000)).then((g) => order.push(`b:${g}`));
    const c = Promise.resolve(pool.acquire(null)).then((g) => order.push(`c:${g}`));
    expect(pool.queueLength).toBe(3);
    clock.advance(5000);
    await b;
    expect(order).toEqual(['b:timeout']);
    pool.release();
    await a;
    expect(order).toEqual(['b:timeout', 'a:granted']);
    pool.abortAll();
    await c;
    expect(order).toEqual(['b:timeout', 'a:granted', 'c:aborted']);
    expect(pool.queueLength).toBe(0);
    expect(pool.peakQueueLength).toBe(3);
  });
});
