/**
 * How busy one of dsprobe's threads is over windows its reader chooses: the share of the window its event loop
 * spent running rather than waiting for I/O, and the longest garbage-collection pause in it. A tester near its own
 * limit adds its queueing to every time it reads; a pause holds every read due in it. These say how near it was.
 */
import { performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';

/** One window of a thread. */
export interface ThreadWindow {
  /** Share of the window the thread's event loop was busy, 0-1. */
  busy: number;
  /** Longest garbage-collection pause seen in the window (ms; 0: none). */
  gc_max_ms: number;
}

export interface ThreadMeter {
  /** The window since the last read with `reset` (or the start); `reset` starts the next one. */
  read(reset: boolean): ThreadWindow;
  stop(): void;
}

/** Meters the calling thread (each worker thread meters itself). */
export function threadMeter(): ThreadMeter {
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  let gcMax = 0;
  // Entries arrive after the pause, in a later turn of the loop: one that ends a window is counted in the next.
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.duration > gcMax) gcMax = e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    read(reset) {
      const u = performance.eventLoopUtilization(since);
      const w = { busy: Math.round(u.utilization * 1000) / 1000, gc_max_ms: Math.round(gcMax * 100) / 100 };
      if (reset) {
        since = performance.eventLoopUtilization();
        gcMax = 0;
      }
      return w;
    },
    stop: () => gc.disconnect(),
  };
}
