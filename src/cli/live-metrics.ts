/**
 * Feeds a LiveMetrics registry from a run: every sample as it finishes, the bracket after every decided level,
 * in-flight, loop delay and the host's CPU steal once a second, and the report's cap estimates at the end. Shared by
 * `run` and `watch`.
 */
import type { Report, Sample } from '../types.js';
import type { Scenario } from '../scenario/types.js';
import type { RunView } from '../run/runner.js';
import type { LoopMonitor } from '../run/loop.js';
import { priceOf } from '../run/budget.js';
import { bracket } from '../plan/search.js';
import { documentedCap } from '../scenario/models.js';
import type { LiveMetrics } from '../report/metrics.js';
import { procStatReader, stealMeter, type HostCpuReader } from '../run/host-cpu.js';

/** Hooks for one run. */
export interface MetricsFeed {
  onSample(s: Sample): void;
  onLevel(model: string): void;
  /** Starts the once-a-second in-flight and loop-delay update for `view`. */
  watch(view: RunView): void;
  /** Final figures of a finished run. */
  report(r: Report): void;
  stop(): void;
}

/**
 * A feed into `metrics` (null: every hook does nothing, so callers need no branches). `hostCpu` reads the host's CPU
 * counters for the steal gauge (default /proc/stat).
 */
export function metricsFeed(metrics: LiveMetrics | null, s: Scenario, loop: LoopMonitor, opts: { liveCap?: boolean; hostCpu?: HostCpuReader } = {}): MetricsFeed {
  let view: RunView | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  const stolen = metrics ? stealMeter(opts.hostCpu ?? procStatReader()) : null;
  const tick = () => {
    if (!metrics || !view) return;
    for (const r of view.models()) metrics.inflightNow(r.spec.name, r.driver.currentTarget, r.driver.inflight);
    metrics.loop(loop.snapshot());
    const d = stolen?.();
    if (d && d.total > 0) metrics.hostSteal(d.steal / d.total);
  };
  return {
    onSample: (smp) => metrics?.sample(smp, priceOf(smp, s.pricing)),
    onLevel(model) {
      const r = view?.models().find((m) => m.spec.name === model);
      // `watch` keeps the last probe's figures until the next probe has its own (liveCap false).
      if (!metrics || !r || opts.liveCap === false) return;
      // As the search stands: the estimate is the highest level held without a 429 so far.
      const b = bracket(r.levels);
      metrics.cap(model, { low: b.low, high: b.high, estimate: b.low, server_reported: null, documented: documentedCap(model) });
    },
    watch(v) {
      view = v;
      if (!metrics) return;
      timer = setInterval(tick, 1000);
      timer.unref?.();
    },
    report(r) {
      if (!metrics) return;
      tick();
      for (const m of r.models) {
        metrics.cap(m.model, m.cap);
        metrics.inflightNow(m.model, 0, 0);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
