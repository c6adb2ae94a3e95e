/**
 * The engine's one entry: a prober on `workers` threads. One worker runs in-process (createProber, exactly the
 * single-thread behaviour); more spread requests over worker threads (pool.ts).
 */
import { createProber, type Prober, type ProberOptions } from '../prober.js';
import { createWorkerProber } from './pool.js';

export { createWorkerProber, type WorkerProberOptions } from './pool.js';

/** A prober on `workers` threads (1: in-process). */
export function createEngineProber(opts: ProberOptions & { workers: number }): Prober {
  const { workers, ...rest } = opts;
  return workers <= 1 ? createProber(rest) : createWorkerProber({ ...rest, workers });
}
