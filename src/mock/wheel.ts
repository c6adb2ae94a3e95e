/**
 * One shared hashed timer wheel for every stream the mock serves: a single interval timer advances ticks and
 * calls one dispatch function for each item due, instead of a timer (and a closure) per token or per stream.
 * With 10,000 streams this is one timer and a few array pushes per wake-up.
 *
 * Time comes from a Clock (microseconds), so tests can drive it; the interval only decides how often it is read.
 */
import type { Clock } from '../time/clock.js';

/** What the wheel needs on an item: fields it owns, so scheduling allocates nothing per item. */
export interface WheelItem {
  /** Bumped on every schedule/cancel; an entry whose stored seq differs is stale and skipped. */
  wheelSeq: number;
  /** Absolute tick when the item is due. */
  wheelDue: number;
}

/** Number of slots; a power of two so `tick & MASK` picks the slot. Items further out wait extra rounds. */
const SIZE = 4096;
const MASK = SIZE - 1;

/** A timer wheel calling `onDue(item)` once per schedule, at or after the scheduled time. */
export class Wheel<T extends WheelItem> {
  private items: T[][] = [];
  private seqs: number[][] = [];
  private readonly tickUs: number;
  private current: number;
  /** Entries stored (live or stale); the interval stops when it reaches zero. */
  private stored = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly step = (): void => this.advance();

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    private readonly onDue: (item: T) => void,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.tickUs = Math.max(1, Math.round(tickMs * 1000));
    this.current = Math.floor(clock.nowUs() / this.tickUs);
    for (let i = 0; i < SIZE; i++) {
      this.items.push([]);
      this.seqs.push([]);
    }
  }

  /** Calls onDue(item) at absolute monotonic time `atUs` (rounded up to a tick; never in the current tick). */
  schedule(item: T, atUs: number): void {
    const due = Math.max(Math.ceil(atUs / this.tickUs), this.current + 1);
    const seq = ++item.wheelSeq;
    item.wheelDue = due;
    const slot = due & MASK;
    this.items[slot]!.push(item);
    this.seqs[slot]!.push(seq);
    this.stored++;
    if (this.timer === undefined) {
      this.timer = setInterval(this.step, this.tickMs);
      // The HTTP server keeps the process alive; the wheel must not.
      this.timer.unref();
    }
  }

  /** Forgets the item's pending call (lazily: its entry is skipped when its slot comes round). */
  cancel(item: T): void {
    item.wheelSeq++;
  }

  /** Stops the interval for good. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.items = this.items.map(() => []);
    this.seqs = this.seqs.map(() => []);
    this.stored = 0;
  }

  /** Processes every tick up to now. Public for tests that drive a manual clock. */
  advance(): void {
    const target = Math.floor(this.clock.nowUs() / this.tickUs);
    // After a long pause (a blocked loop, a big clock jump) walk at most one round: every slot gets visited.
    if (target - this.current > SIZE) this.current = target - SIZE;
    while (this.current < target) {
      this.current++;
      this.runSlot(this.current);
    }
    if (this.stored === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private runSlot(tick: number): void {
    const slot = tick & MASK;
    const items = this.items[slot]!;
    const seqs = this.seqs[slot]!;
    if (items.length === 0) return;
    // Swap in fresh arrays: onDue may schedule into this very slot (for a later round).
    this.items[slot] = [];
    this.seqs[slot] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.wheelSeq !== seqs[i]) {
        this.stored--;
        continue;
      }
      if (item.wheelDue > tick) {
        // Due in a later round of the wheel: keep it in place.
        this.items[slot]!.push(item);
        this.seqs[slot]!.push(seqs[i]!);
        continue;
      }
      this.stored--;
      item.wheelSeq++;
      try {
        this.onDue(item);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
