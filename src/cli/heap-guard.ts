/**
 * Nothing lost on the way down: V8 aborts a process whose heap is exhausted without running 'exit' handlers,
 * so samples still buffered would be lost. The guard looks at the heap twice a second; near the limit it
 * flushes the samples file and stops the run as failed (exit 3), while there is still room to write the report.
 */
import v8 from 'node:v8';

/** The heap share at which the run is stopped. */
export const HEAP_STOP_SHARE = 0.85;

/** Starts the guard; `onNearLimit` is called once, with a one-line reason. Returns the stop function. */
export function startHeapGuard(onNearLimit: (reason: string) => void, everyMs = 500): () => void {
  let fired = false;
  const t = setInterval(() => {
    if (fired) return;
    const h = v8.getHeapStatistics();
    if (h.used_heap_size > HEAP_STOP_SHARE * h.heap_size_limit) {
      fired = true;
      const mb = (n: number) => Math.round(n / 1048576);
      onNearLimit(`memory nearly exhausted (heap ${mb(h.used_heap_size)} of ${mb(h.heap_size_limit)} MB): stopped to keep what was measured`);
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
