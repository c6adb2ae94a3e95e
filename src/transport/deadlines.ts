/**
 * One shared deadline sweep for all requests of a prober, instead of one timer per request.
 *
 * Why: with thousands of requests in flight, a timer per request means thousands of timer inserts and
 * removals per second. Here deadlines live in a min-heap (O(log n) insert and remove, entries know their heap
 * slot so a finished request is removed at once and nothing stale accumulates), and ONE clock sleep is armed
 * for the earliest deadline. Requests normally finish long before their deadline, so the armed sleep usually
 * wakes to find nothing due and re-arms for the new earliest deadline: about one wake-up per timeout period.
 *
 * Deadlines are absolute monotonic microseconds (Clock.nowUs); nothing ever extends one.
 */
import type { Clock } from '../time/clock.js';

/** A registered deadline; `cancel` removes it (idempotent). */
export interface DeadlineHandle {
  cancel(): void;
}

/** What a deadline calls: a function, or an object's `expire()` (an exchange: no closure per request). */
export type DeadlineTarget = (() => void) | { expire(): void };

/** One registered deadline (a class: no closure per entry). */
class Entry implements DeadlineHandle {
  slot = -1;
  constructor(
    readonly sweep: DeadlineSweep,
    readonly at: number,
    readonly target: DeadlineTarget,
  ) {}
  cancel(): void {
    this.sweep.remove(this);
  }
  fire(): void {
    const t = this.target;
    if (typeof t === 'function') t();
    else t.expire();
  }
}

/** A min-heap of deadlines served by one armed clock sleep. */
export class DeadlineSweep {
  private readonly clock: Clock;
  private readonly heap: Entry[] = [];
  /** Deadline the armed sleep wakes at (Infinity when none is armed). */
  private armedAt = Infinity;
  private armCtl: AbortController | null = null;
  private closed = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Number of live deadlines (for tests). */
  get size(): number {
    return this.heap.length;
  }

  /** Calls `fire` (or `fire.expire()`) once at or after `atUs`, unless cancelled first. */
  add(atUs: number, fire: DeadlineTarget): DeadlineHandle {
    const e = new Entry(this, atUs, fire);
    if (this.closed) return e;
    e.slot = this.heap.length;
    this.heap.push(e);
    this.up(e.slot);
    if (atUs < this.armedAt) this.arm(atUs);
    return e;
  }

  /** Cancels the armed sleep and drops every deadline without firing them. */
  close(): void {
    this.closed = true;
    for (const e of this.heap) e.slot = -1;
    this.heap.length = 0;
    this.disarm();
  }

  /** Removes `e` (idempotent); Entry.cancel calls it. */
  remove(e: Entry): void {
    const i = e.slot;
    if (i < 0) return;
    e.slot = -1;
    const last = this.heap.pop() as Entry;
    if (last !== e) {
      this.heap[i] = last;
      last.slot = i;
      this.down(i);
      this.up(last.slot);
    }
    // Leave an armed sleep in place (it wakes, finds nothing due, re-arms), except when nothing is left:
    // a pending sleep would otherwise keep the process alive for a whole timeout period.
    if (this.heap.length === 0) this.disarm();
  }

  private disarm(): void {
    this.armCtl?.abort();
    this.armCtl = null;
    this.armedAt = Infinity;
  }

  private arm(atUs: number): void {
    this.armCtl?.abort();
    const ctl = new AbortController();
    this.armCtl = ctl;
    this.armedAt = atUs;
    void this.clock.sleepUntil(atUs, ctl.signal).then(() => {
      if (this.armCtl !== ctl) return; // superseded by an earlier deadline or disarmed
      this.armCtl = null;
      this.armedAt = Infinity;
      this.sweep();
    });
  }

  private sweep(): void {
    const now = this.clock.nowUs();
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.remove(top);
      try {
        top.fire();
      } catch {
        // a deadline callback must not break the sweep for the others
      }
    }
    const next = this.heap[0];
    if (next && !this.closed && next.at < this.armedAt) this.arm(next.at);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Entry;
      if (pe.at <= e.at) break;
      h[i] = pe;
      pe.slot = i;
      i = p;
    }
    h[i] = e;
    e.slot = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (h[r] as Entry).at < (h[l] as Entry).at) c = r;
      const ce = h[c] as Entry;
      if (ce.at >= e.at) break;
      h[i] = ce;
      ce.slot = i;
      i = c;
    }
    h[i] = e;
    e.slot = i;
  }
}
