/**
 * The client's bounded pool (`policy.pool`): at most `limit` requests in flight; later ones wait in a FIFO
 * queue, shed after `queue_timeout`. Time comes from the injected clock, so tests drive it by hand.
 */
import type { Clock } from '../../time/clock.js';

/** How a wait for a slot ended. */
export type Grant = 'granted' | 'timeout' | 'aborted';

interface Waiter {
  settled: boolean;
  resolve: (g: Grant) => void;
  /** Cancels the timeout sleep once settled. */
  timer: AbortController | null;
}

/** A counting semaphore with a FIFO queue and per-waiter timeouts. `limit` undefined = unbounded (no queue). */
export class ClientPool {
  private held = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;
  private peakQueue = 0;

  constructor(
    readonly limit: number | undefined,
    private readonly clock: Clock,
  ) {}

  /** Slots held (requests this pool let through and not yet released). */
  get inflight(): number {
    return this.held;
  }
  /** Requests waiting for a slot now. */
  get queueLength(): number {
    return this.waiting;
  }
  /** Most requests seen waiting at once. */
  get peakQueueLength(): number {
    return this.peakQueue;
  }

  /**
   * A slot now, or after waiting in FIFO order; `timeout` when `deadlineUs` (absolute, null = none) passed
   * first, `aborted` when abortAll() ran. A granted slot must be released exactly once.
   */
  acquire(deadlineUs: number | null): Grant | Promise<Grant> {
    if (this.limit === undefined || (this.held < this.limit && this.waiting === 0)) {
      this.held++;
      return 'granted';
    }
    if (deadlineUs !== null && this.clock.nowUs() >= deadlineUs) return 'timeout';
    return new Promise<Grant>((resolve) => {
      const w: Waiter = { settled: false, resolve, timer: null };
      this.queue.push(w);
      this.waiting++;
      if (this.waiting > this.peakQueue) this.peakQueue = this.waiting;
      if (deadlineUs !== null) {
        w.timer = new AbortController();
        void this.clock.sleepUntil(deadlineUs, w.timer.signal).then(() => {
          if (w.settled) return;
          this.settle(w, 'timeout');
        });
      }
    });
  }

  /** Gives a slot back; the longest waiter (if any) takes it at once. */
  release(): void {
    this.held--;
    this.grantNext();
  }

  /** Ends every wait with `aborted` (the run is over). */
  abortAll(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const w = this.queue[i] as Waiter;
      if (!w.settled) this.settle(w, 'aborted');
    }
    this.queue = [];
    this.head = 0;
  }

  private grantNext(): void {
    while (this.limit !== undefined && this.held < this.limit && this.head < this.queue.length) {
      const w = this.queue[this.head++] as Waiter;
      if (w.settled) continue;
      this.held++;
      this.settle(w, 'granted');
    }
    // Compact now and then so the array does not grow for the whole run.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private settle(w: Waiter, g: Grant): void {
    w.settled = true;
    this.waiting--;
    w.timer?.abort();
    w.resolve(g);
  }
}
