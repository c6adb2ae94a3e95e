/**
 * The one histogram type dsprobe uses: HDR, integer microseconds, 3 significant digits,
 * 1 µs .. 1 hour. Serialised as HDR's compressed base64 so runs and shards merge exactly.
 */
import * as hdr from 'hdr-histogram-js';
import type { Percentiles } from '../types.js';

export type Histogram = hdr.Histogram;

/** Highest value tracked: one hour in µs. Values above are clamped (and counted). */
export const HIST_MAX_US = 3_600_000_000;

/** A new empty histogram for microsecond values. */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIST_MAX_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
  });
}

/** Records one duration in µs (rounded, clamped to [1, HIST_MAX_US]), `count` times. */
export function recordUs(h: Histogram, us: number, count = 1): void {
  if (!Number.isFinite(us)) return;
  const v = Math.min(HIST_MAX_US, Math.max(1, Math.round(us)));
  if (count === 1) h.recordValue(v);
  else h.recordValueWithCount(v, count);
}

/** The parts of hdr-histogram-js's JS histogram that a one-pass mean needs. */
interface CountsView {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
  medianEquivalentValue(v: number): number;
}

/**
 * Percentiles in milliseconds. The mean is summed here in one pass because hdr-histogram-js computes `mean` with an iterator that
 * allocates per bucket (about 6 ms per histogram here, 95 % of percentilesMs); this sums the same terms in the
 * same order in one pass over the counts, so the float result is identical (a test checks it).
 */
export function percentilesMs(h: Histogram): Percentiles {
  const v = h as unknown as Partial<CountsView>;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const c = v as CountsView;
  let total = 0;
  for (let i = 0; i < c.countsArrayLength; i++) {
    const n = c.getCountAtIndex(i);
    if (n > 0) total += c.medianEquivalentValue(c.highestEquivalentValue(c.valueFromIndex(i))) * n;
  }
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: Math.round(total / h.totalCount) / 1000,
  };
}

/** Serialises to HDR compressed base64 (the V2 compressed encoding, mergeable by any HDR library). */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Parses what encodeHistogram wrote. An empty string gives an empty histogram. */
export function decodeHistogram(s: string): Histogram {
  const out = newHistogram();
  if (!s) return out;
  const h = hdr.decodeFromCompressedBase64(s, 32, false);
  out.add(h);
  h.destroy();
  return out;
}

/** Adds every encoded histogram into one. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const out = newHistogram();
  for (const e of encoded) {
    if (!e) continue;
    const h = decodeHistogram(e);
    out.add(h);
    h.destroy();
  }
  return out;
}

/**
 * The latency distribution for charts: value (ms) at each of a fixed set of percentiles.
 * Used by the HTML report's percentile-distribution chart.
 */
export const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100] as const;

export function distributionMs(h: Histogram): { percentile: number; ms: number }[] {
  if (h.totalCount === 0) return [];
  return DISTRIBUTION_PERCENTILES.map((p) => ({
    percentile: p,
    ms: Math.round(p === 100 ? h.maxValue : h.getValueAtPercentile(p)) / 1000,
  }));
}
