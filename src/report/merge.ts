/**
 * Combining step statistics: N shards of one scenario into one report (`dsprobe merge`), and several steps of one
 * run at the same in-flight level into one point (charts, compare). Counts add; histograms merge exactly
 * (HDR, same layout); percentiles are recomputed from the merged histograms, never averaged.
 */
import { OUTCOMES, type CapEstimate, type ErrorGroup, type HistogramSet, type ModelReport, type Outcome, type Percentiles, type Report, type RunStatus, type StepReport, type TokenTotals } from '../types.js';
import { addTotals, emptyTokens } from '../measure/recorder.js';
import { encodeHistogram, mergeEncoded, percentilesMs, type Histogram } from '../measure/hist.js';
import { estimateCap } from '../measure/cap.js';
import { usageError } from '../errors.js';
import { evaluateThresholds } from '../measure/thresholds.js';
import type { ThresholdSpec } from '../scenario/types.js';
import { attachHeadroom } from './headroom.js';
import { accountCap, mergeTimelinesByClock, startOffsets } from './merge-account.js';

/**
 * How steps combine: `shards` ran at the same time on different machines (in-flight and rates add);
 * `sequence` ran one after another at one level (in-flight is a time-weighted mean, durations add).
 */
export type CombineMode = 'shards' | 'sequence';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

function addTokens(list: readonly TokenTotals[]): TokenTotals {
  const out = emptyTokens();
  for (const t of list) addTotals(out, t);
  return out;
}

function addCounts(list: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of list) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Merged histogram (encoded) and its percentiles. */
function mergeHist(encoded: readonly string[]): { enc: string; p: Percentiles } {
  const h = mergeEncoded(encoded);
  const out = { enc: encodeHistogram(h), p: percentilesMs(h) };
  h.destroy();
  return out;
}

/**
 * Send lag has no histogram in the report, so it cannot be merged exactly: counts add, the mean is
 * count-weighted, and each percentile is the largest of the parts (an upper bound).
 */
function boundPercentiles(list: readonly Percentiles[]): Percentiles {
  const count = sum(list.map((p) => p.count));
  if (count === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const max = (k: keyof Percentiles) => Math.max(...list.map((p) => p[k]));
  return {
    count,
    p50: max('p50'),
    p90: max('p90'),
    p95: max('p95'),
    p99: max('p99'),
    max: max('max'),
    mean: round(sum(list.map((p) => p.mean * p.count)) / count, 3),
  };
}

function mergeErrors(list: readonly ErrorGroup[][]): ErrorGroup[] {
  const by = new Map<string, ErrorGroup>();
  for (const groups of list) {
    for (const g of groups) {
      const key = `${g.outcome}|${g.status ?? ''}|${g.detail ?? ''}`;
      const have = by.get(key);
      if (have) have.count += g.count;
      else by.set(key, { ...g });
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}

const ALL_HISTOGRAMS: readonly (keyof HistogramSet)[] = ['ttft', 'latency', 'keepalive_wait', 'tpot'];
const EMPTY = { enc: '', p: { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 } };

/**
 * Combines steps of one model into one StepReport (see CombineMode). `steps` must not be empty.
 * `histograms` limits which histograms are merged (decoding is the cost; charts skip `tpot`); the others come
 * back empty.
 */
export function combineSteps(steps: readonly StepReport[], mode: CombineMode, histograms: readonly (keyof HistogramSet)[] = ALL_HISTOGRAMS): StepReport {
  const first = steps[0];
  if (!first) throw new Error('combineSteps: no steps');
  if (steps.length === 1 && mode === 'sequence') return first;
  const requests = sum(steps.map((s) => s.requests));
  const rateLimited = sum(steps.map((s) => s.rate_limited));
  const merge = (k: keyof HistogramSet) => (histograms.includes(k) ? mergeHist(steps.map((s) => s.histograms[k])) : EMPTY);
  const ttft = merge('ttft');
  const latency = merge('latency');
  const ka = merge('keepalive_wait');
  const tpot = merge('tpot');
  const start = Math.min(...steps.map((s) => s.start_ms));
  const shards = mode === 'shards';
  const duration = shards ? Math.max(...steps.map((s) => s.duration_ms)) : sum(steps.map((s) => s.duration_ms));
  const durS = Math.max(1e-3, duration / 1000);
  const endedBy = [...new Set(steps.map((s) => s.ended_by))];
  const reported = steps.map((s) => s.server_reported).filter((v): v is number => v !== null);
  const outcomes = addCounts(steps.map((s) => s.outcomes)) as Record<Outcome, number>;
  for (const o of OUTCOMES) outcomes[o] ??= 0;
  const tokens = addTokens(steps.map((s) => s.tokens));
  return {
    index: first.index,
    model: first.model,
    target_inflight: shards ? sum(steps.map((s) => s.target_inflight)) : first.target_inflight,
    achieved_inflight: shards
      ? round(sum(steps.map((s) => s.achieved_inflight)), 2)
      : round(sum(steps.map((s) => s.achieved_inflight * s.duration_ms)) / Math.max(1e-9, duration), 2),
    // Shards: the sum of each shard's peak, an upper bound on the simultaneous peak (their clocks differ).
    peak_inflight: shards ? sum(steps.map((s) => s.peak_inflight)) : Math.max(...steps.map((s) => s.peak_inflight)),
    peak_admitted: shards
      ? sum(steps.map((s) => s.peak_admitted ?? 0))
      : Math.max(...steps.map((s) => s.peak_admitted ?? 0)),
    start_ms: start,
    duration_ms: round(duration, 3),
    ended_by: endedBy.join('+'),
    requests,
    ok: sum(steps.map((s) => s.ok)),
    rate_limited: rateLimited,
    rate_429: requests ? round(rateLimited / requests, 6) : 0,
    rate_limited_late: sum(steps.map((s) => s.rate_limited_late ?? 0)),
    rate_limited_from_below: sum(steps.map((s) => s.rate_limited_from_below ?? 0)),
    // Whatever the run's definition of an error, error_rate × requests is a count: weight by requests.
    error_rate: requests ? round(sum(steps.map((s) => s.error_rate * s.requests)) / requests, 6) : 0,
    outcomes,
    statuses: addCounts(steps.map((s) => s.statuses)),
    throughput_rps: shards ? round(sum(steps.map((s) => s.throughput_rps)), 3) : round(sum(steps.map((s) => s.throughput_rps * s.duration_ms / 1000)) / durS, 3),
    output_tokens_per_s: shards ? round(sum(steps.map((s) => s.output_tokens_per_s)), 3) : round(tokens.completion / durS, 3),
    tokens,
    estimated_usage: sum(steps.map((s) => s.estimated_usage ?? 0)),
    queued: sum(steps.map((s) => s.queued)),
    ttft_ms: ttft.p,
    latency_ms: latency.p,
    keepalive_wait_ms: ka.p,
    tpot_ms: tpot.p,
    send_lag_ms: boundPercentiles(steps.map((s) => s.send_lag_ms)),
    ...(steps.some((s) => s.held_send_lag_ms) ? { held_send_lag_ms: boundPercentiles(steps.flatMap((s) => (s.held_send_lag_ms ? [s.held_send_lag_ms] : []))) } : {}),
    histograms: { ttft: ttft.enc, latency: latency.enc, keepalive_wait: ka.enc, tpot: tpot.enc },
    server_reported: reported.length ? Math.max(...reported) : null,
    errors: mergeErrors(steps.map((s) => s.errors)),
  };
}

/**
 * The one place merged caps are recomputed: the run's own cap estimator on the combined steps, so a merged
 * report concludes exactly what one machine holding the summed in-flight would have.
 */
export function recomputeCap(steps: readonly StepReport[], prior: CapEstimate | undefined): CapEstimate {
  return estimateCap(steps, { documented: prior?.documented ?? undefined });
}

const STATUS_RANK: RunStatus[] = ['completed', 'interrupted', 'budget_exceeded', 'aborted_by_threshold', 'failed'];

/** The worst of the shards' loop delays; unknown (null) when any shard's is unknown, since it could be worse. */
function worstDelay(list: readonly (number | null)[]): number | null {
  return list.some((v) => v == null) ? null : Math.max(...(list as number[]));
}

/** Each distinct threshold of the shards, in first-seen order (one scenario: normally the same list). */
function thresholdSpecs(shards: readonly Report[]): ThresholdSpec[] {
  const seen = new Map<string, ThresholdSpec>();
  for (const r of shards) {
    for (const t of r.thresholds) {
      const have = seen.get(t.expression);
      if (have) have.abort_on_fail ||= t.abort_on_fail;
      else seen.set(t.expression, { expression: t.expression, abort_on_fail: t.abort_on_fail });
    }
  }
  return [...seen.values()];
}

/**
 * Merges reports from parallel shards of one scenario into one: counts add, histograms merge, percentiles
 * come from the merged histograms, in-flight adds per matching step (model, step index), and caps are
 * recomputed from the combined in-flight. Throws a usage error when the shards are not of one scenario.
 */
export function mergeReports(shards: Report[]): Report {
  const first = shards[0];
  if (!first) throw usageError('merge: no shard reports given');
  shards.forEach((r, i) => {
    if (r.name !== first.name) {
      throw usageError(`merge: shard ${i + 1} is from scenario "${r.name}", shard 1 from "${first.name}"`, [
        { path: 'name', message: 'every shard must come from the same scenario', hint: 'merge only the report.json files of one sharded run' },
      ]);
    }
  });
  const warnings = new Set<string>();
  const modelNames = [...new Set(shards.flatMap((r) => r.models.map((m) => m.model)))];
  const models: ModelReport[] = modelNames.map((name) => {
    // Steps keep their own shard's clock until placed on the shared one by the shard's wall-clock start.
    const offsets = startOffsets(shards);
    const parts = shards
      .map((r, i) => {
        const m = r.models.find((x) => x.model === name);
        return m && { ...m, steps: m.steps.map((st) => ({ ...st, start_ms: st.start_ms + (offsets[i] as number) })) };
      })
      .filter((m): m is ModelReport => !!m);
    if (parts.length < shards.length) warnings.add(`${name}: present in ${parts.length} of ${shards.length} shards.`);
    const byIndex = new Map<number, StepReport[]>();
    parts.forEach((p, pi) => {
      for (const s of p.steps) {
        const list = byIndex.get(s.index) ?? [];
        const other = list[0];
        // An odd total split over shards differs by one; anything more means the shards ran different steps.
        if (other && Math.abs(other.target_inflight - s.target_inflight) > Math.max(1, 0.01 * other.target_inflight)) {
          throw usageError(`merge: ${name} step ${s.index} holds ${s.target_inflight} in flight in one shard and ${other.target_inflight} in another`, [
            { path: `models.${name}.steps[${s.index}].target_inflight`, message: `shard ${pi + 1} differs`, hint: 'shards must run the same steps: use load.mode ramp (a search adapts per shard), one scenario and one seed' },
          ]);
        }
        list.push(s);
        byIndex.set(s.index, list);
      }
    });
    const steps = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([index, list]) => {
      if (list.length < parts.length) warnings.add(`${name} step ${index}: present in ${list.length} of ${parts.length} shards (a shard ended early?).`);
      return combineSteps(list, 'shards');
    });
    const spend = {
      requests: sum(parts.map((p) => p.spend.requests)),
      admitted: sum(parts.map((p) => p.spend.admitted)),
      rate_limited: sum(parts.map((p) => p.spend.rate_limited)),
      tokens: addTokens(parts.map((p) => p.spend.tokens)),
      usd: round(sum(parts.map((p) => p.spend.usd)), 6),
      seconds: Math.max(...parts.map((p) => p.spend.seconds)),
    };
    // Shards share one account: its cap comes from their merged in-flight timeline on one clock.
    return { model: name, weight: parts[0]?.weight ?? 1, cap: accountCap(shards, name, recomputeCap(steps, parts[0]?.cap)), steps, spend };
  });
  const worst = shards.map((r) => r.status).sort((a, b) => STATUS_RANK.indexOf(b) - STATUS_RANK.indexOf(a))[0] ?? 'completed';
  const loopWarnings = shards.map((r, i) => (r.loop.warning ? `shard ${i + 1}: ${r.loop.warning}` : null)).filter((w): w is string => !!w);
  for (const r of shards) for (const w of r.warnings) warnings.add(w);
  const nShards = sum(shards.map((r) => r.shards ?? 1));
  const merged: Report = {
    ...first,
    status: worst,
    status_reason: shards.map((r, i) => (r.status_reason ? `shard ${i + 1}: ${r.status_reason}` : null)).filter(Boolean).join('; ') || null,
    started_at: shards.map((r) => r.started_at).sort()[0] ?? first.started_at,
    duration_ms: Math.max(...shards.map((r) => r.duration_ms)),
    target: { ...first.target, keys: Math.max(...shards.map((r) => r.target.keys)) },
    models,
    timeline: mergeTimelinesByClock(shards),
    thresholds: [],
    cost: {
      usd: round(sum(shards.map((r) => r.cost.usd)), 6),
      tokens: addTokens(shards.map((r) => r.cost.tokens)),
      requests: sum(shards.map((r) => r.cost.requests)),
      admitted: sum(shards.map((r) => r.cost.admitted)),
      estimated: shards.some((r) => r.cost.estimated),
    },
    // Each shard had its own event loop: the worst one bounds how far latency figures can be trusted.
    loop: {
      delay_p50_ms: worstDelay(shards.map((r) => r.loop.delay_p50_ms)),
      delay_p99_ms: worstDelay(shards.map((r) => r.loop.delay_p99_ms)),
      delay_max_ms: worstDelay(shards.map((r) => r.loop.delay_max_ms)),
      warning: loopWarnings.length ? loopWarnings.join('; ') : null,
    },
    warnings: [...warnings],
    shards: nShards,
  };
  // Per-second percentiles of shards cannot be merged exactly (each bucket keeps only a small histogram of its
  // own shard): the merged report holds no series rather than one shard's.
  delete merged.series;
  attachHeadroom(merged.models, merged.scenario);
  // Thresholds are judged again on the merged data (merged histograms, summed counts), not per shard.
  merged.thresholds = evaluateThresholds(thresholdSpecs(shards), merged);
  return merged;
}
