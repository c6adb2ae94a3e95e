/**
 * The data the HTML report's charts draw, computed in Node from a Report: points per in-flight level (steps at
 * one level combined, histograms merged), a downsampled timeline, and latency distributions decoded from the HDR
 * histograms. Everything here is plain numbers and strings, inlined into the page as JSON.
 */
import type { ModelReport, Report, StepReport, TimelinePoint } from '../types.js';
import { decodeHistogram, distributionMs, DISTRIBUTION_PERCENTILES } from '../measure/hist.js';
import { combineSteps } from './merge.js';

/** Most points per model on charts against in-flight; beyond it adjacent levels are combined. */
export const MAX_LEVEL_POINTS = 120;
/** Most timeline points per model; beyond it points are bucketed (peak in-flight, summed 429s). */
export const MAX_TIMELINE_POINTS = 1200;
/** Most in-flight levels drawn in a model's latency-distribution chart. */
export const MAX_DIST_LEVELS = 8;

/** One in-flight level of one model (all its steps combined). */
export interface Level {
  /** The in-flight target (for a combined bucket: its request-weighted mean, rounded). */
  inflight: number;
  /** Lowest and highest target combined into this point (equal unless downsampled). */
  from: number;
  to: number;
  requests: number;
  rate_limited: number;
  queued: number;
  step: StepReport;
}

/** Per-model series for the charts. Arrays are aligned with `x`. */
export interface ModelChartData {
  model: string;
  cap: number | null;
  x: number[];
  rate429: number[];
  ttft: [number[], number[], number[]];
  latency: [number[], number[], number[]];
  keepalive: [number[], number[], number[]];
  /** Timeline: seconds since start, in-flight, target, 429s in the interval (null when none). */
  timeline: { t: number[]; inflight: number[]; target: number[]; r429: (number | null)[] };
  /** Distribution per chosen level: x is "nines" (-log10(1 - p)), y is ms. */
  dist: { level: number; ms: number[] }[];
  distX: number[];
  downsampled: { levels: number; points: number; timeline: number; timelinePoints: number };
}

/** The inlined page data. */
export interface ChartData {
  models: ModelChartData[];
}

/** Groups a model's steps by target in-flight, in ascending order; several steps at one level are combined. */
export function levelsOf(steps: readonly StepReport[]): Level[] {
  const by = new Map<number, StepReport[]>();
  for (const s of steps) {
    if (s.requests === 0) continue;
    by.set(s.target_inflight, [...(by.get(s.target_inflight) ?? []), s]);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([inflight, list]) => {
      const step = combineSteps(list, 'sequence');
      return { inflight, from: inflight, to: inflight, requests: step.requests, rate_limited: step.rate_limited, queued: step.queued, step };
    });
}

/** Combines adjacent levels into at most `max` points (histograms merged, so percentiles stay true). */
export function downsampleLevels(levels: readonly Level[], max = MAX_LEVEL_POINTS): Level[] {
  if (levels.length <= max) return [...levels];
  const per = Math.ceil(levels.length / max);
  const out: Level[] = [];
  for (let i = 0; i < levels.length; i += per) {
    const group = levels.slice(i, i + per);
    // tpot is not charted: skip merging it (decoding histograms is most of the cost of a long run's page).
    const step = combineSteps(group.map((l) => l.step), 'sequence', ['ttft', 'latency', 'keepalive_wait']);
    const req = group.reduce((a, l) => a + l.requests, 0);
    const mean = req ? group.reduce((a, l) => a + l.inflight * l.requests, 0) / req : (group[0] as Level).inflight;
    out.push({
      inflight: Math.round(mean),
      from: (group[0] as Level).from,
      to: (group[group.length - 1] as Level).to,
      requests: step.requests,
      rate_limited: step.rate_limited,
      queued: step.queued,
      step,
    });
  }
  return out;
}

/** Buckets a model's timeline into at most `max` points: peak in-flight, last target, summed 429s. */
export function downsampleTimeline(points: readonly TimelinePoint[], max = MAX_TIMELINE_POINTS): TimelinePoint[] {
  if (points.length <= max) return [...points];
  const per = Math.ceil(points.length / max);
  const out: TimelinePoint[] = [];
  for (let i = 0; i < points.length; i += per) {
    const g = points.slice(i, i + per);
    const lastP = g[g.length - 1] as TimelinePoint;
    out.push({
      t_ms: lastP.t_ms,
      model: lastP.model,
      inflight: Math.max(...g.map((p) => p.inflight)),
      target: lastP.target,
      rate_limited: g.reduce((a, p) => a + p.rate_limited, 0),
      completed: g.reduce((a, p) => a + p.completed, 0),
    });
  }
  return out;
}

/** Picks up to `max` levels spread over the range, always including the lowest and the highest. */
export function pickLevels<T>(xs: readonly T[], max = MAX_DIST_LEVELS): T[] {
  if (xs.length <= max) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (max - 1))] as T);
  return [...new Set(out)];
}

/** x position of a percentile on the distribution chart: -log10(1 - p/100), with p = 100 drawn at 5 ("max"). */
export function nines(p: number): number {
  return p >= 100 ? 5 : Math.round(-Math.log10(1 - p / 100) * 1000) / 1000;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

function modelData(m: ModelReport, timeline: readonly TimelinePoint[]): ModelChartData {
  const all = levelsOf(m.steps);
  const levels = downsampleLevels(all);
  const pct = (get: (s: StepReport) => { p50: number; p90: number; p99: number; count: number }) =>
    [0, 1, 2].map((k) => levels.map((l) => {
      const p = get(l.step);
      return p.count ? [p.p50, p.p90, p.p99][k] as number : NaN;
    })) as [number[], number[], number[]];
  const tl = downsampleTimeline(timeline.filter((p) => p.model === m.model));
  const distLevels = pickLevels(all.filter((l) => l.step.ok > 0));
  const dist = distLevels.map((l) => {
    const h = decodeHistogram(l.step.histograms.latency);
    const d = distributionMs(h);
    h.destroy();
    return { level: l.inflight, ms: d.map((p) => p.ms) };
  }).filter((d) => d.ms.length > 0);
  return {
    model: m.model,
    cap: m.cap.estimate,
    x: levels.map((l) => l.inflight),
    rate429: levels.map((l) => (l.requests ? r3((l.rate_limited / l.requests) * 100) : NaN)),
    ttft: pct((s) => s.ttft_ms),
    latency: pct((s) => s.latency_ms),
    keepalive: pct((s) => s.keepalive_wait_ms),
    timeline: {
      t: tl.map((p) => r3(p.t_ms / 1000)),
      inflight: tl.map((p) => p.inflight),
      target: tl.map((p) => p.target),
      r429: tl.map((p) => (p.rate_limited > 0 ? p.rate_limited : null)),
    },
    dist,
    distX: DIST_X,
    downsampled: {
      levels: all.length,
      points: levels.length,
      timeline: timeline.filter((p) => p.model === m.model).length,
      timelinePoints: tl.length,
    },
  };
}

const DIST_X = DISTRIBUTION_PERCENTILES.map(nines);

/** All chart data for a report. NaN (no data) becomes null in the page's JSON. */
export function chartData(report: Report): ChartData {
  return { models: report.models.map((m) => modelData(m, report.timeline)) };
}
