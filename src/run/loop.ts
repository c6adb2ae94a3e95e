/**
 * Watches dsprobe's own event loop. A tester whose loop lags reports that lag as the server's latency, so
 * every run measures its own delay, puts it in the report, and warns when figures cannot be trusted.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LoopHealth } from '../types.js';

/** Above this p99 (ms) latency figures get a warning: they may be dsprobe's lag, not the server's. */
export const LOOP_WARN_P99_MS = 50;

const RESOLUTION_MS = 10;

/** Loop health as measured live: every figure known. */
export type MeasuredLoop = LoopHealth & { delay_p50_ms: number; delay_p99_ms: number; delay_max_ms: number };

export interface LoopMonitor {
  /** Figures so far (ms). */
  snapshot(): MeasuredLoop;
  stop(): MeasuredLoop;
}

/** Starts sampling event-loop delay at 10 ms resolution. */
export function startLoopMonitor(): LoopMonitor {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const snapshot = (): MeasuredLoop => {
    // The histogram is in ns and each value includes the 10 ms sampling interval itself: subtract it.
    const ms = (ns: number) => Math.max(0, Math.round(((Number.isFinite(ns) ? ns : 0) - RESOLUTION_MS * 1e6) / 1e4) / 100);
    const n = h.count ?? 0;
    const p50 = n ? ms(h.percentile(50)) : 0;
    const p99 = n ? ms(h.percentile(99)) : 0;
    const max = n ? ms(h.max) : 0;
    return { delay_p50_ms: p50, delay_p99_ms: p99, delay_max_ms: max, warning: loopWarning(p99) };
  };
  return {
    snapshot,
    stop() {
      const s = snapshot();
      h.disable();
      return s;
    },
  };
}

/** The warning for a given loop-delay p99, or null when figures can be trusted. */
export function loopWarning(p99Ms: number): string | null {
  if (p99Ms <= LOOP_WARN_P99_MS) return null;
  return (
    `dsprobe's own event-loop delay p99 was ${p99Ms.toFixed(1)} ms (> ${LOOP_WARN_P99_MS} ms): latency figures ` +
    'include that much client-side lag. Lower the in-flight target, run shards on several machines (docs/sharding.md), ' +
    'or give dsprobe a core of its own.'
  );
}
