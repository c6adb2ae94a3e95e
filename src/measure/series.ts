/**
 * Latency and failures over time: samples folded into per-model time buckets (1 s to begin with). Bounded:
 * past MAX_BUCKETS the bucket width doubles and neighbours merge, so a day-long run costs what a ten-minute
 * one does. Each bucket keeps two small HDR histograms (2 significant digits, packed), enough for a chart.
 */
import * as hdr from 'hdr-histogram-js';
import type { ModelSeries, Sample, TimeSeries } from '../types.js';
import { HIST_MAX_US } from './hist.js';
import { isOwnAbort } from './recorder.js';

/** Most buckets per model before the width doubles. */
export const MAX_BUCKETS = 600;

const ERRORS: ReadonlySet<string> = new Set(['client_error', 'server_error', 'network', 'protocol']);

interface Bucket {
  ttft: hdr.Histogram | null;
  latency: hdr.Histogram | null;
  ok: number;
  rate_limited: number;
  errors: number;
  timeouts: number;
}

function small(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIST_MAX_US, numberOfSignificantValueDigits: 2, bitBucketSize: 'packed', useWebAssembly: false });
}

function record(h: hdr.Histogram | null, us: number): hdr.Histogram {
  const out = h ?? small();
  if (Number.isFinite(us)) out.recordValue(Math.min(HIST_MAX_US, Math.max(1, Math.round(us))));
  return out;
}

function mergeInto(a: hdr.Histogram | null, b: hdr.Histogram | null): hdr.Histogram | null {
  if (!b) return a;
  if (!a) return b;
  a.add(b);
  b.destroy();
  return a;
}

/** Folds samples into per-model time buckets; `result()` gives the report's `series`. */
export class SeriesRecorder {
  private widthUs = 1_000_000;
  private readonly models = new Map<string, Bucket[]>();

  /** Folds one finished request (placed by its end time). */
  add(s: Sample): void {
    let list = this.models.get(s.model);
    if (!list) {
      list = [];
      this.models.set(s.model, list);
    }
    let i = Math.max(0, Math.floor(s.end_us / this.widthUs));
    while (i >= MAX_BUCKETS) {
      this.widen();
      i = Math.max(0, Math.floor(s.end_us / this.widthUs));
    }
    while (list.length <= i) list.push({ ttft: null, latency: null, ok: 0, rate_limited: 0, errors: 0, timeouts: 0 });
    const b = list[i] as Bucket;
    const ownAbort = isOwnAbort(s);
    // The same rule as the step recorder: successes (and dsprobe's own cuts, for TTFT) feed latency.
    if ((s.outcome === 'ok' || ownAbort) && s.first_token_us !== undefined) b.ttft = record(b.ttft, s.first_token_us - s.sent_us);
    if (s.outcome === 'ok') {
      b.ok++;
      b.latency = record(b.latency, s.end_us - s.sent_us);
    } else if (s.outcome === 'rate_limited') b.rate_limited++;
    else if (s.outcome === 'timeout') b.timeouts++;
    else if (ERRORS.has(s.outcome)) b.errors++;
  }

  private widen(): void {
    this.widthUs *= 2;
    for (const [model, list] of this.models) {
      const out: Bucket[] = [];
      for (let i = 0; i < list.length; i += 2) {
        const a = list[i] as Bucket;
        const b = list[i + 1];
        if (b) {
          a.ttft = mergeInto(a.ttft, b.ttft);
          a.latency = mergeInto(a.latency, b.latency);
          a.ok += b.ok;
          a.rate_limited += b.rate_limited;
          a.errors += b.errors;
          a.timeouts += b.timeouts;
        }
        out.push(a);
      }
      this.models.set(model, out);
    }
  }

  /** The series so far, for the models in `order` (others after them). */
  result(order: readonly string[] = []): TimeSeries {
    const names = [...order.filter((m) => this.models.has(m)), ...[...this.models.keys()].filter((m) => !order.includes(m))];
    const q = (h: hdr.Histogram | null, p: number) => (h && h.totalCount ? Math.round(h.getValueAtPercentile(p)) / 1000 : null);
    const models: ModelSeries[] = names.map((model) => {
      const list = this.models.get(model) as Bucket[];
      return {
        model,
        t_s: list.map((_, i) => (i * this.widthUs) / 1e6),
        ttft_p50_ms: list.map((b) => q(b.ttft, 50)),
        ttft_p99_ms: list.map((b) => q(b.ttft, 99)),
        latency_p50_ms: list.map((b) => q(b.latency, 50)),
        latency_p99_ms: list.map((b) => q(b.latency, 99)),
        ok: list.map((b) => b.ok),
        rate_limited: list.map((b) => b.rate_limited),
        errors: list.map((b) => b.errors),
        timeouts: list.map((b) => b.timeouts),
      };
    });
    return { bucket_ms: this.widthUs / 1000, models };
  }

  /** Frees the histograms. */
  destroy(): void {
    for (const list of this.models.values()) for (const b of list) {
      b.ttft?.destroy();
      b.latency?.destroy();
    }
    this.models.clear();
  }
}

/** The series of a list of samples (a rebuild from samples.ndjson). */
export function seriesOf(samples: Iterable<Sample>, order: readonly string[] = []): TimeSeries {
  const r = new SeriesRecorder();
  for (const s of samples) r.add(s);
  const out = r.result(order);
  r.destroy();
  return out;
}
