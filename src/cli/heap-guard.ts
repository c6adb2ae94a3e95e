/**
 * Nothing lost on the way down: V8 aborts a process whose heap is exhausted without running 'exit' handlers,
 * so samples still buffered would be lost. The guard looks at the heap twice a second; near the limit it
 * flushes the samples file and stops the run as failed (exit 3), while there is still room to write the report.
 */
import v8 from 'node:v8';

/**
 * How far V8 lets the old space grow past what the last full collection kept, in percent. V8 otherwise picks
 * the factor itself from its GC and allocation speeds, anywhere from 1.1 to 4 times: on a busy machine it can let
 * a heap of 20 MiB live grow to 80 before collecting, and a long run's RSS jumps by half for tens of seconds.
 * Fixed at 30 % (what V8's own --predictable-gc-schedule uses), a run's memory stays flat, at about the same
 * collection rate as V8's usual choice for dsprobe's heap (README, the memory benchmark).
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Fixes the heap's growing factor for the rest of the process (HEAP_GROWING_PERCENT): V8 reads it at every
 * full collection, so setting it at start is enough, and it holds for worker threads too.
 */
export function steadyHeap(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** The heap share at which the run is stopped. */
export const HEAP_STOP_SHARE = 0.85;

/**
 * `heap_size_limit` counts the young generation's reserve (three 16 MiB semi-spaces on 64-bit Node 20-24) on top of
 * the old space, and V8 gives up when the *old* space is full: the share is taken of the limit without it, or a
 * small heap (`--max-old-space-size=64`: limit 112 MiB) would die before 85 % of its limit could ever be reached.
 */
export const YOUNG_RESERVE_BYTES = 48 * 1024 * 1024;

/** The used-heap size at which the guard fires, for a heap of `limit` bytes. */
export function heapStopBytes(limit: number, share = HEAP_STOP_SHARE): number {
  return share * Math.max(limit / 2, limit - YOUNG_RESERVE_BYTES);
}

/**
 * Starts the guard; `onNearLimit` is called once, with a one-line reason. Returns the stop function. `share`
 * replaces HEAP_STOP_SHARE (tests: `DSPROBE_TEST_HEAP_STOP_SHARE`, see testHeapShare).
 */
export function startHeapGuard(onNearLimit: (reason: string) => void, everyMs = 500, share = HEAP_STOP_SHARE): () => void {
  let fired = false;
  const t = setInterval(() => {
    if (fired) return;
    const h = v8.getHeapStatistics();
    if (h.used_heap_size > heapStopBytes(h.heap_size_limit, share)) {
      fired = true;
      const mb = (n: number) => Math.round(n / 1048576);
      onNearLimit(`memory nearly exhausted (heap ${mb(h.used_heap_size)} of ${mb(h.heap_size_limit)} MB): stopped to keep what was measured`);
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/**
 * `DSPROBE_TEST_HEAP_STOP_SHARE` (tests only, undocumented for users): the heap share at which the guard stops the
 * run, so a test can see the whole way down (samples flushed, report written, exit 3) without exhausting a heap.
 */
export function testHeapShare(env: Readonly<Record<string, string | undefined>>): number {
  const v = Number(env['DSPROBE_TEST_HEAP_STOP_SHARE']);
  return env['DSPROBE_TEST_HEAP_STOP_SHARE'] && Number.isFinite(v) && v > 0 && v < 1 ? v : HEAP_STOP_SHARE;
}
