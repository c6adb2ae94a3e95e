/**
 * How many worker threads `--workers auto` (and `engine.workers: auto`) means on a machine: its cores minus one (the
 * main thread's), at least one. A file of its own so that the report, which advises on threads, need not load the
 * pool.
 */
export function autoWorkers(cores: number): number {
  return Math.max(1, cores - 1);
}
