/**
 * The spans of queued requests, kept until a step's report (their waits are estimated against a baseline known
 * only then). A server that queues every request for ten minutes would otherwise keep one entry per request: past
 * `max` entries the store keeps every other one and, from then on, one in `stride`, each standing for `stride`
 * requests (the last one for the remainder), so the wait histogram still counts every queued request while memory
 * stays bounded. Deterministic: the same samples give the same report.
 */

/** Most spans kept per step before they are thinned. */
export const MAX_QUEUED_SPANS = 65_536;

export class QueuedSpans {
  /** Per kept span: time to first data (NaN: none), send to last keep-alive, keep-alive interval (NaN: unknown); µs. */
  private ttfd: Float64Array;
  private lastKa: Float64Array;
  private interval: Float64Array;
  private kept = 0;
  private seen = 0;
  private stride = 1;
  /** Most spans kept (at least 2, so thinning always halves). */
  private readonly cap: number;

  constructor(max = MAX_QUEUED_SPANS) {
    this.cap = Math.max(2, max);
    const n = Math.min(1024, this.cap);
    this.ttfd = new Float64Array(n);
    this.lastKa = new Float64Array(n);
    this.interval = new Float64Array(n);
  }

  /** Queued requests recorded (every one, kept or not). */
  get count(): number {
    return this.seen;
  }

  add(ttfdUs: number | null, lastKaUs: number, intervalUs: number | null): void {
    const i = this.seen++;
    if (i % this.stride !== 0) return;
    if (this.kept === this.cap) {
      this.thin();
      // The stride doubled: this request may now fall between two kept ones.
      if (i % this.stride !== 0) return;
    }
    if (this.kept === this.ttfd.length) this.grow();
    this.ttfd[this.kept] = ttfdUs ?? NaN;
    this.lastKa[this.kept] = lastKaUs;
    this.interval[this.kept] = intervalUs ?? NaN;
    this.kept++;
  }

  /** Calls `fn` for each kept span with the number of queued requests it stands for (the weights sum to `count`). */
  forEach(fn: (ttfdUs: number | null, lastKaUs: number, intervalUs: number | null, weight: number) => void): void {
    for (let k = 0; k < this.kept; k++) {
      const weight = k === this.kept - 1 ? this.seen - k * this.stride : this.stride;
      const t = this.ttfd[k] as number;
      const iv = this.interval[k] as number;
      fn(Number.isNaN(t) ? null : t, this.lastKa[k] as number, Number.isNaN(iv) ? null : iv, weight);
    }
  }

  /** Keeps the spans at even positions (request indexes that are multiples of the doubled stride). */
  private thin(): void {
    let w = 0;
    for (let k = 0; k < this.kept; k += 2, w++) {
      this.ttfd[w] = this.ttfd[k] as number;
      this.lastKa[w] = this.lastKa[k] as number;
      this.interval[w] = this.interval[k] as number;
    }
    this.kept = w;
    this.stride *= 2;
  }

  private grow(): void {
    const n = Math.min(this.cap, this.ttfd.length * 2);
    const copy = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.ttfd = copy(this.ttfd);
    this.lastKa = copy(this.lastKa);
    this.interval = copy(this.interval);
  }
}
