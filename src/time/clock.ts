/**
 * Time as a parameter: measurements use a monotonic clock, tests inject their own.
 */

/** A monotonic clock in microseconds, plus the ability to wait until an absolute deadline. */
export interface Clock {
  /** Monotonic microseconds since the clock's origin (integer). */
  nowUs(): number;
  /** Resolves at the absolute monotonic time `deadlineUs` (or at once if past); rejects never. */
  sleepUntil(deadlineUs: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Longest single timer, ms. Node's setTimeout fires at once (with a TimeoutOverflowWarning) past 2^31-1 ms, so a
 * longer sleep is a chain of timers of at most this length, each re-armed from the clock.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real monotonic clock: performance.now() relative to its creation. */
export function monotonicClock(): Clock {
  const origin = performance.now();
  const nowUs = () => Math.round((performance.now() - origin) * 1000);
  return {
    nowUs,
    sleepUntil(deadlineUs, signal) {
      return new Promise<void>((resolve) => {
        const waitMs = (deadlineUs - nowUs()) / 1000;
        if (waitMs <= 0 || signal?.aborted) return resolve();
        let timer: ReturnType<typeof setTimeout>;
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        // Chained for sleeps past MAX_TIMER_MS; one timer in the common case.
        const arm = () => {
          const left = (deadlineUs - nowUs()) / 1000;
          if (left <= 0) return done();
          timer = setTimeout(left > MAX_TIMER_MS ? arm : done, Math.min(Math.ceil(left), MAX_TIMER_MS));
        };
        arm();
        signal?.addEventListener('abort', done, { once: true });
      });
    },
  };
}

/** A manual clock for tests: time moves only when `advance` is called. */
export function manualClock(startUs = 0): Clock & { advance(us: number): void } {
  let now = startUs;
  let waiters: { at: number; resolve: () => void }[] = [];
  return {
    nowUs: () => now,
    sleepUntil(deadlineUs) {
      if (deadlineUs <= now) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ at: deadlineUs, resolve }));
    },
    advance(us) {
      now += us;
      const due = waiters.filter((w) => w.at <= now);
      waiters = waiters.filter((w) => w.at > now);
      for (const w of due) w.resolve();
    },
  };
}
