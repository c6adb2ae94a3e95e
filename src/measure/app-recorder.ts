/**
 * Folds what the application saw in rate mode (one AppResult per arrival: succeeded, shed or failed, when, after
 * how many attempts) into per-policy, per-model statistics: counts, HDR histograms (µs) and a timeline. The
 * per-attempt view (what the server saw) stays in the StepRecorder of the same policy and model.
 */
import { SHED_REASONS, type AppStats, type Outcome, type ShedReason } from '../types.js';
import { encodeHistogram, newHistogram, percentilesMs, recordUs, type Histogram } from './hist.js';

/** The end of one application request (one arrival), all attempts included. */
export interface AppResult {
  /** Scheduled arrival, run clock µs. */
  arrival_us: number;
  /** When the application got its answer (or gave up), run clock µs. */
  end_us: number;
  result: 'ok' | 'shed' | 'failed';
  shed?: ShedReason;
  /** Outcome of the last attempt, for `failed`. */
  outcome?: Outcome;
  attempts: number;
  /** Time spent waiting in the client's queue, all attempts, µs. */
  queue_wait_us: number;
  /** Time spent waiting between attempts, µs. */
  backoff_us: number;
}


interface Bucket {
  arrivals: number;
  ok: number;
  shed: number;
  failed: number;
  attempts: number;
  limited: number;
  queueMax: number;
  inflightMax: number;
  waitSum: number;
  waitN: number;
  lat: number[];
  open: boolean;
}

const emptyBucket = (): Bucket => ({ arrivals: 0, ok: 0, shed: 0, failed: 0, attempts: 0, limited: 0, queueMax: 0, inflightMax: 0, waitSum: 0, waitN: 0, lat: [], open: false });

/** Statistics of one policy and one model, built as results arrive. */
export class AppRecorder {
  private readonly appLatency: Histogram = newHistogram();
  private readonly queueWait: Histogram = newHistogram();
  private readonly backoff: Histogram = newHistogram();
  private readonly arrivalLag: Histogram = newHistogram();
  private readonly buckets: Bucket[] = [];
  private readonly shedBy = Object.fromEntries(SHED_REASONS.map((r) => [r, 0])) as Record<ShedReason, number>;
  private readonly failedBy: Partial<Record<Outcome, number>> = {};
  private arrivals = 0;
  private ok = 0;
  private shed = 0;
  private failed = 0;
  private attempts = 0;
  private retries = 0;
  private peakQueue = 0;

  /** `startUs`: the policy's start (timeline origin); `bucketUs`: timeline resolution; `parent`: also told everything (the all-models total). */
  constructor(
    readonly startUs: number,
    readonly bucketUs: number,
    private readonly parent?: AppRecorder,
  ) {}

  /** End of the arrival schedule (run clock µs): successes up to it make goodput. */
  windowEndUs = Infinity;
  private okInWindow = 0;

  private bucket(tUs: number): Bucket {
    const i = Math.max(0, Math.floor((tUs - this.startUs) / this.bucketUs));
    while (this.buckets.length <= i) this.buckets.push(emptyBucket());
    return this.buckets[i] as Bucket;
  }

  /** An arrival was handled at `handledUs` (its schedule said `arrivalUs`). */
  arrival(arrivalUs: number, handledUs: number): void {
    this.parent?.arrival(arrivalUs, handledUs);
    this.arrivals++;
    this.bucket(arrivalUs).arrivals++;
    recordUs(this.arrivalLag, Math.max(0, handledUs - arrivalUs));
  }

  /** An attempt went on the wire (`retry`: not the first of its request). */
  attempt(atUs: number, retry: boolean): void {
    this.parent?.attempt(atUs, retry);
    this.attempts++;
    if (retry) this.retries++;
    this.bucket(atUs).attempts++;
  }

  /** An attempt drew a 429 (counted at its end). */
  limited(atUs: number): void {
    this.parent?.limited(atUs);
    this.bucket(atUs).limited++;
  }

  /** A slot was granted after waiting `waitUs` in the client's queue. */
  granted(atUs: number, waitUs: number): void {
    this.parent?.granted(atUs, waitUs);
    recordUs(this.queueWait, waitUs);
    const b = this.bucket(atUs);
    b.waitSum += waitUs;
    b.waitN++;
  }

  /** The client's queue length and the attempts on the wire changed (or were sampled) at `atUs`. */
  gauge(atUs: number, queue: number, inflight: number, breakerOpen: boolean): void {
    this.parent?.gauge(atUs, queue, inflight, breakerOpen);
    const b = this.bucket(atUs);
    if (queue > b.queueMax) b.queueMax = queue;
    if (inflight > b.inflightMax) b.inflightMax = inflight;
    if (breakerOpen) b.open = true;
    if (queue > this.peakQueue) this.peakQueue = queue;
  }

  /** One application request ended. */
  end(r: AppResult): void {
    this.parent?.end(r);
    const b = this.bucket(r.end_us);
    if (r.result === 'ok') {
      this.ok++;
      if (r.end_us <= this.windowEndUs) this.okInWindow++;
      b.ok++;
      const lat = Math.max(0, r.end_us - r.arrival_us);
      recordUs(this.appLatency, lat);
      b.lat.push(lat);
    } else if (r.result === 'shed') {
      this.shed++;
      b.shed++;
      const reason = r.shed ?? 'run_ended';
      this.shedBy[reason]++;
    } else {
      this.failed++;
      b.failed++;
      const o = r.outcome ?? 'network';
      this.failedBy[o] = (this.failedBy[o] ?? 0) + 1;
    }
    if (r.backoff_us > 0) recordUs(this.backoff, r.backoff_us);
  }

  /** Requests that arrived and have not ended yet. */
  get open(): number {
    return this.arrivals - this.ok - this.shed - this.failed;
  }

  /** The folded statistics. */
  stats(): AppStats {
    return {
      arrivals: this.arrivals,
      ok: this.ok,
      ok_in_schedule: this.okInWindow,
      shed: this.shed,
      failed: this.failed,
      shed_by_reason: { ...this.shedBy },
      failed_by_outcome: { ...this.failedBy },
      attempts: this.attempts,
      retries: this.retries,
      app_latency_ms: percentilesMs(this.appLatency),
      queue_wait_ms: percentilesMs(this.queueWait),
      backoff_ms: percentilesMs(this.backoff),
      arrival_lag_ms: percentilesMs(this.arrivalLag),
      histograms: { app_latency: encodeHistogram(this.appLatency), queue_wait: encodeHistogram(this.queueWait), arrival_lag: encodeHistogram(this.arrivalLag) },
      peak_queue: this.peakQueue,
      timeline: this.buckets.map((b, i) => {
        const lat = b.lat.sort((x, y) => x - y);
        const at = (p: number) => (lat.length ? (lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] as number) / 1000 : 0);
        return {
          t_ms: Math.round((i * this.bucketUs) / 1000),
          arrivals: b.arrivals,
          ok: b.ok,
          shed: b.shed,
          failed: b.failed,
          attempts: b.attempts,
          rate_limited: b.limited,
          queue_max: b.queueMax,
          inflight_max: b.inflightMax,
          queue_wait_mean_ms: b.waitN ? Math.round(b.waitSum / b.waitN) / 1000 : 0,
          app_p50_ms: at(50),
          app_p99_ms: at(99),
          breaker_open: b.open,
        };
      }),
    };
  }
}
