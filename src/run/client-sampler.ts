/**
 * Samples dsprobe's own health while a run goes on and folds it into the steps running at that moment: the main
 * thread's event-loop delay p99 per interval, each prober worker's (Prober.health), how busy every thread was and
 * its longest GC pause, the process's CPU time, the connects opened, and the CPU time the host stole from the
 * machine (host-cpu.ts).
 * From these every step knows whether it was client-bound (measure/client.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Prober } from '../transport/prober.js';
import { threadMeter } from '../transport/thread-meter.js';
import type { StepRecorder } from '../measure/recorder.js';
import { procStatReader, stealMeter, type HostCpuReader } from './host-cpu.js';

/** Sampling interval, ms. */
export const CLIENT_SAMPLE_MS = 250;
const RESOLUTION_MS = 10;

export interface ClientSampler {
  /** Samples now; connects go to `into` (default: the first current step). */
  tick(into?: StepRecorder): Promise<void>;
  stop(): void;
}

/**
 * Starts sampling every CLIENT_SAMPLE_MS; `current()` lists the steps running now. `limitMs` (when given) is the
 * client-bound limit every step sampled is judged by (see RunDeps.clientLagLimitMs). `hostCpu` reads the host's
 * CPU counters (default /proc/stat).
 */
export function startClientSampler(prober: Prober, current: () => (StepRecorder | undefined)[], limitMs?: number, hostCpu: HostCpuReader = procStatReader()): ClientSampler {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const meter = threadMeter();
  let cpuAt = process.cpuUsage();
  let wallAt = performance.now();
  const stolen = stealMeter(hostCpu);
  let busy = false;
  const tick = async (into?: StepRecorder): Promise<void> => {
    if (busy && !into) return;
    busy = true;
    try {
      const n = h.count ?? 0;
      // Each value includes the sampling resolution itself: subtract it (as run/loop.ts does).
      const mainP99 = n ? Math.max(0, (h.percentile(99) - RESOLUTION_MS * 1e6) / 1e6) : 0;
      h.reset();
      const main = meter.read(true);
      const cpu = process.cpuUsage(cpuAt);
      cpuAt = process.cpuUsage();
      const now = performance.now();
      const wallUs = (now - wallAt) * 1000;
      wallAt = now;
      const steal = stolen();
      const health = prober.health ? await prober.health() : { connect_us: [], threads: [] };
      const steps = current().filter((s): s is StepRecorder => s !== undefined && s.endUs === null);
      for (const s of steps) {
        if (limitMs !== undefined) s.client.limitMs = limitMs;
        s.client.loop(0, mainP99);
        s.client.busy(0, main.busy, main.gc_max_ms);
        s.client.cpu(cpu.user + cpu.system, wallUs);
        if (steal) s.client.steal(steal.steal, steal.total);
        for (const t of health.threads) {
          s.client.loop(t.thread, t.p99_ms);
          s.client.busy(t.thread, t.busy, t.gc_max_ms);
        }
      }
      const target = into ?? steps[0];
      if (target && health.connect_us.length) target.client.connected(health.connect_us);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), CLIENT_SAMPLE_MS);
  timer.unref?.();
  return {
    tick,
    stop() {
      clearInterval(timer);
      h.disable();
      meter.stop();
    },
  };
}
