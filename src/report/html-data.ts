/**
 * The data the HTML report's charts draw, computed in Node from a Report: points per in-flight level (steps at
 * one level combined, histograms merged), a downsampled timeline, and latency distributions decoded from the HDR
 * histograms. Everything here is plain numbers and strings, inlined into the page as JSON.
 */
import type { ModelReport, Report, StepReport, TimelinePoint } from '../types.js';
import { decodeHistogram, distributionMs, DISTRIBUTION_PERCENTILES } from '../measure/hist.js';
import { combineSteps } from './merge.js';
import { HDR_COLORS, MARK_COLORS, MODEL_COLORS, PCT_COLORS, modelColor } from './html-palette.js';

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

/** A per-key or per-user_id breakdown drawn against in-flight: one line per key. */
export interface BreakdownChart {
  /** `API key` or `user_id`. */
  by: string;
  labels: string[];
  x: number[];
  /** Per label, aligned with x: 429 rate (%) and requests. */
  rate429: (number | null)[][];
  requests: (number | null)[][];
}

/** Per-model series for the charts. Arrays are aligned with `x`. */
export interface ModelChartData {
  model: string;
  color: string;
  /** The cap drawn on charts: the estimate, or (not reached) the highest level admitted in full. */
  cap: number | null;
  /** True when `cap` is only a lower bound (the cap was not reached). */
  capLowerBound: boolean;
  /** In flight needed (models.X.need), and at p99 latency for a rate; null without a need. */
  need: number | null;
  needP99: number | null;
  verdict: string | null;
  /** Latency, errors and timeouts over time (report.series), when the report has it. */
  series: { t: number[]; ttft50: (number | null)[]; ttft99: (number | null)[]; e2e50: (number | null)[]; e2e99: (number | null)[]; errors: number[]; timeouts: number[]; r429: number[] } | null;
  breakdowns: BreakdownChart[];
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
  palette: { models: string[]; pct: string[]; hdr: string[]; overCap: string; target: string };
  /** Width of a series bucket, seconds (0 when the report has no series). */
  seriesBucketS: number;
}

/**
 * Groups a model's steps by target in-flight, in ascending order; several steps at one level are combined.
 * Levels whose steps finished no request are left out unless `keepEmpty` (the Levels table keeps them: a
 * zero-request re-check can be what decided the bracket).
 */
export function levelsOf(steps: readonly StepReport[], keepEmpty = false): Level[] {
  const by = new Map<number, StepReport[]>();
  for (const s of steps) {
    if (s.requests === 0 && !keepEmpty) continue;
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

/**
 * The target through the drain: once a model's last level is over, the runner stops sampling and the target
 * reads 0 while requests still finish. The last target is carried over those points so the line does not
 * drop to 0 (or vanish) while the level is still draining.
 */
export function targetThroughDrain(points: readonly TimelinePoint[]): TimelinePoint[] {
  let last = 0;
  return points.map((p) => {
    if (p.target > 0) last = p.target;
    return p.target === 0 && p.inflight > 0 && last > 0 ? { ...p, target: last } : p;
  });
}

/** One breakdown entry as read from a step: tolerant of a record keyed by id or a list of objects. */
interface BreakdownEntry {
  requests: number;
  rate_limited: number;
}

function entriesOf(v: unknown): [string, BreakdownEntry][] {
  const toEntry = (x: unknown): BreakdownEntry | null => {
    const r = x as Record<string, unknown> | null;
    return r && typeof r.requests === 'number' ? { requests: r.requests, rate_limited: typeof r.rate_limited === 'number' ? r.rate_limited : 0 } : null;
  };
  if (Array.isArray(v)) {
    return v.flatMap((x) => {
      const r = x as Record<string, unknown> | null;
      const id = r?.key ?? r?.key_index ?? r?.user_id ?? r?.id ?? r?.name;
      const e = toEntry(x);
      return e && id !== undefined ? [[String(id), e] as [string, BreakdownEntry]] : [];
    });
  }
  if (v && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => {
      const e = toEntry(x);
      return e ? [[k, e] as [string, BreakdownEntry]] : [];
    });
  }
  return [];
}

/** Most lines on a breakdown chart; further keys are summed into `other`. */
export const MAX_BREAKDOWN_LINES = 8;

/**
 * Per-key (`steps[].by_key`) and per-user_id (`steps[].by_user`) charts against in-flight, drawn only when a
 * model's steps name two or more keys (or ids).
 */
function breakdowns(levels: readonly Level[], steps: readonly StepReport[]): BreakdownChart[] {
  const out: BreakdownChart[] = [];
  for (const [field, by, prefix] of [['by_key', 'API key', 'key '], ['by_user', 'user_id', '']] as const) {
    const perLevel = new Map<number, Map<string, BreakdownEntry>>();
    const totals = new Map<string, number>();
    for (const s of steps) {
      const entries = entriesOf((s as unknown as Record<string, unknown>)[field]);
      if (!entries.length) continue;
      const at = perLevel.get(s.target_inflight) ?? new Map<string, BreakdownEntry>();
      for (const [k, e] of entries) {
        const have = at.get(k) ?? { requests: 0, rate_limited: 0 };
        have.requests += e.requests;
        have.rate_limited += e.rate_limited;
        at.set(k, have);
        totals.set(k, (totals.get(k) ?? 0) + e.requests);
      }
      perLevel.set(s.target_inflight, at);
    }
    if (totals.size < 2) continue;
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    const shown = ranked.length > MAX_BREAKDOWN_LINES ? ranked.slice(0, MAX_BREAKDOWN_LINES - 1) : ranked;
    const other = ranked.length > shown.length;
    const labels = [...shown.map((k) => `${prefix}${k}`), ...(other ? ['other'] : [])];
    const x = levels.map((l) => l.inflight).filter((v) => perLevel.has(v));
    const cell = (level: number, li: number): BreakdownEntry | null => {
      const at = perLevel.get(level);
      if (!at) return null;
      if (li < shown.length) return at.get(shown[li] as string) ?? null;
      const rest = [...at.entries()].filter(([k]) => !shown.includes(k));
      return rest.length ? rest.reduce((a, [, e]) => ({ requests: a.requests + e.requests, rate_limited: a.rate_limited + e.rate_limited }), { requests: 0, rate_limited: 0 }) : null;
    };
    out.push({
      by,
      labels,
      x,
      rate429: labels.map((_, li) => x.map((v) => {
        const c = cell(v, li);
        return c && c.requests ? r3((c.rate_limited / c.requests) * 100) : null;
      })),
      requests: labels.map((_, li) => x.map((v) => cell(v, li)?.requests ?? null)),
    });
  }
  return out;
}

function seriesData(r: Report, model: string): ModelChartData['series'] {
  const s = r.series?.models.find((x) => x.model === model);
  if (!s || !s.t_s.length) return null;
  return { t: s.t_s, ttft50: s.ttft_p50_ms, ttft99: s.ttft_p99_ms, e2e50: s.latency_p50_ms, e2e99: s.latency_p99_ms, errors: s.errors, timeouts: s.timeouts, r429: s.rate_limited };
}

function modelData(m: ModelReport, timeline: readonly TimelinePoint[], i = 0, r?: Report): ModelChartData {
  const all = levelsOf(m.steps);
  const levels = downsampleLevels(all);
  const pct = (get: (s: StepReport) => { p50: number; p90: number; p99: number; count: number }) =>
    [0, 1, 2].map((k) => levels.map((l) => {
      const p = get(l.step);
      return p.count ? [p.p50, p.p90, p.p99][k] as number : NaN;
    })) as [number[], number[], number[]];
  const tl = downsampleTimeline(targetThroughDrain(timeline.filter((p) => p.model === m.model)));
  const distLevels = pickLevels(all.filter((l) => l.step.ok > 0));
  const dist = distLevels.map((l) => {
    const h = decodeHistogram(l.step.histograms.latency);
    const d = distributionMs(h);
    h.destroy();
    return { level: l.inflight, ms: d.map((p) => p.ms) };
  }).filter((d) => d.ms.length > 0);
  const lower = m.cap.status === 'not_reached';
  return {
    model: m.model,
    color: modelColor(i),
    cap: m.cap.estimate ?? (lower ? m.cap.low : null),
    capLowerBound: lower,
    need: m.headroom?.need ?? null,
    needP99: m.headroom?.need_p99 ?? null,
    verdict: m.headroom ? m.headroom.verdict.replace(/_/g, ' ') : null,
    series: r ? seriesData(r, m.model) : null,
    breakdowns: breakdowns(levels, m.steps),
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
  return {
    models: report.models.map((m, i) => modelData(m, report.timeline, i, report)),
    palette: { models: MODEL_COLORS, pct: PCT_COLORS, hdr: HDR_COLORS, overCap: MARK_COLORS.overCap, target: MARK_COLORS.target },
    seriesBucketS: report.series ? report.series.bucket_ms / 1000 : 0,
  };
}
