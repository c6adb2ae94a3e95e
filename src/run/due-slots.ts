/**
 * When each free slot of a level became due, oldest first: a launch fills the oldest, and its send lag is measured
 * from that slot's own time. A wave of ends (streams of one length end together) is then charged each slot's wait,
 * not the wait of the wave's first end for all of them; a level's ramp-up charges every slot the level's start.
 *
 * A ring of doubles: one store per end and one load per launch, nothing allocated once grown.
 */
export class DueSlots {
  private buf = new Float64Array(256);
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** `count` slots became due at `atUs` (they are the newest). */
  push(atUs: number, count = 1): void {
    if (count <= 0) return;
    if (this.n + count > this.buf.length) this.grow(this.n + count);
    const cap = this.buf.length;
    for (let i = 0; i < count; i++) this.buf[(this.head + this.n + i) % cap] = atUs;
    this.n += count;
  }

  /** The oldest slot's due time, taken; `fallbackUs` when none is known. */
  take(fallbackUs: number): number {
    if (this.n === 0) return fallbackUs;
    const t = this.buf[this.head] as number;
    this.head = (this.head + 1) % this.buf.length;
    this.n--;
    return t;
  }

  /** Keeps the `free` oldest (a step down left fewer free slots than were due): the rest are no longer wanted. */
  trimTo(free: number): void {
    if (this.n > free) this.n = Math.max(0, free);
  }

  /** The level now has `free` free slots: the oldest due ones are kept, the others became due at `atUs`. */
  reconcile(free: number, atUs: number): void {
    this.trimTo(free);
    this.push(atUs, free - this.n);
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Float64Array(cap);
    for (let i = 0; i < this.n; i++) next[i] = this.buf[(this.head + i) % this.buf.length] as number;
    this.buf = next;
    this.head = 0;
  }
}
