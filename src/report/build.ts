/**
 * Report builders (pure): from a finished run, or from raw samples.ndjson alone. Both go through the same
 * per-step statistics and the same cap estimator, so a rebuilt report says what the live one said.
 */
import os, { availableParallelism } from 'node:os';
import type { LoopHealth, TimeSeries, ModelReport, Report, RunStatus, Sample, Spend, StepReport, ThresholdResult, TimelinePoint } from '../types.js';
import type { Scenario, ThresholdSpec } from '../scenario/types.js';
import { buildRehearsal, rateCap } from './rehearsal.js';
import { autoWorkers } from '../transport/workers/auto.js';
import type { RunResult } from '../run/runner.js';
import { estimateCap } from '../measure/cap.js';
import { STEAL_NOTE_SHARE } from '../measure/client.js';
import { StepRecorder, addTotals, attributeLate429, emptyTokens } from '../measure/recorder.js';
import { usdOf } from '../cost/cost.js';
import { VERSION } from '../version.js';
import { attachHeadroom } from './headroom.js';
import { seriesOf } from '../measure/series.js';

/** Most timeline points kept per model; longer runs are downsampled (max in-flight, summed counts per bucket). */
export const TIMELINE_MAX_POINTS = 1500;

/** The first line of samples.ndjson: what is needed to rebuild a report from the samples alone. */
export interface SamplesHeader {
  kind: 'dsprobe.samples/v1';
  name: string;
  started_at: string;
  seed: number;
  mode: 'search' | 'ramp' | 'rate';
  target: Report['target'];
  /** Redacted scenario. */
  scenario: unknown;
  models: { name: string; weight: number }[];
  pricing: Scenario['pricing'];
}

/** A line of samples.ndjson written at the end of a run: why each step ended (StepReport.ended_by). */
export interface StepEndMarker {
  kind: 'step_end';
  model: string;
  step: number;
  ended_by: string;
}

/** A line of samples.ndjson marking the start of a step (a level), so a rebuild recovers every level. */
export interface StepMarker {
  kind: 'step';
  model: string;
  step: number;
  target: number;
  /** Run clock, µs. */
  t_us: number;
}

export interface BuildContext {
  name: string;
  startedAt: string;
  seed: number;
  mode: 'search' | 'ramp' | 'rate';
  target: Report['target'];
  scenario: unknown;
  loop: LoopHealth;
  warnings: string[];
  pricing: Scenario['pricing'];
  /** Rate mode: the scenario's thresholds, which the policy recommendation reads. */
  expect?: ThresholdSpec[];
  /** Latency, errors and timeouts over time (a SeriesRecorder fed every sample), if kept. */
  series?: TimeSeries;
}

/** The environment block of a report. */
export function environment(): Report['environment'] {
  return { dsprobe: VERSION, node: process.version, os: `${os.type()} ${os.release()}`, arch: os.arch(), cpus: os.cpus().length };
}

/** Spend of one model's steps. */
export function spendOf(steps: readonly StepReport[], pricing: Scenario['pricing'], model: string): Spend {
  const tokens = emptyTokens();
  let requests = 0;
  let limited = 0;
  let admitted = 0;
  let seconds = 0;
  for (const s of steps) {
    requests += s.requests;
    limited += s.rate_limited;
    admitted += s.requests - s.rate_limited - (s.statuses['none'] ?? 0);
    seconds += s.duration_ms / 1000;
    addTotals(tokens, s.tokens);
  }
  const p = pricing[model];
  const usd = p ? usdOf(tokens, p) : 0;
  return { requests, admitted: Math.max(0, admitted), rate_limited: limited, tokens, usd: round6(usd), seconds: Math.round(seconds * 1000) / 1000 };
}

/** Assembles the models, caps and totals; thresholds are evaluated by the caller on the result. */
export function assembleReport(
  ctx: BuildContext,
  perModel: { name: string; weight: number; steps: StepReport[]; unclear?: boolean; unclearWhy?: string }[],
  timeline: TimelinePoint[],
  status: RunStatus,
  statusReason: string | null,
  durationMs: number,
  thresholds: ThresholdResult[] = [],
): Report {
  const models: ModelReport[] = perModel.map((m) => ({
    model: m.name,
    weight: m.weight,
    // A cheap probe's calibration request (level 1) and the measure_at levels are not cap evidence.
    cap: estimateCap(m.steps.filter((st) => !NOT_CAP_EVIDENCE.has(st.ended_by)), { unclear: m.unclear, ...(m.unclearWhy ? { unclearWhy: m.unclearWhy } : {}) }),
    steps: m.steps,
    spend: spendOf(m.steps, ctx.pricing, m.name),
  }));
  attachHeadroom(models, ctx.scenario);
  const tokens = emptyTokens();
  let usd = 0;
  let requests = 0;
  let admitted = 0;
  for (const m of models) {
    addTotals(tokens, m.spend.tokens);
    usd += m.spend.usd;
    requests += m.spend.requests;
    admitted += m.spend.admitted;
  }
  const warnings = [...ctx.warnings];
  if (ctx.loop.warning) {
    // The host's CPU steal (run/host-cpu.ts) stalls the loop as dsprobe's own work does: name it when it was there.
    const steal = maxHostSteal(models);
    warnings.push(steal >= STEAL_NOTE_SHARE ? `${ctx.loop.warning} The host took up to ${Math.round(steal * 100)} % of this machine's CPU time in a level (CPU steal): part of that lag was the host's.` : ctx.loop.warning);
  }
  let measureUsd = 0;
  for (const m of models) measureUsd += spendOf(m.steps.filter((st) => st.ended_by === 'measure'), ctx.pricing, m.model).usd;
  // The cores `--workers auto` counts (availableParallelism), not every CPU the machine lists.
  const bound = clientBoundWarning(models, availableParallelism());
  if (bound) warnings.push(bound);
  return {
    schema: 'dsprobe.report/v1',
    name: ctx.name,
    status,
    status_reason: statusReason,
    started_at: ctx.startedAt,
    duration_ms: Math.round(durationMs),
    seed: ctx.seed,
    mode: ctx.mode,
    target: ctx.target,
    scenario: ctx.scenario,
    models,
    timeline: downsampleTimeline(timeline, TIMELINE_MAX_POINTS),
    thresholds,
    cost: {
      usd: round6(usd),
      tokens,
      requests,
      admitted,
      estimated: models.some((m) => m.steps.some((st) => (st.estimated_usage ?? 0) > 0)),
      ...(ctx.mode === 'search' ? { split: { search_usd: round6(usd - measureUsd), measure_usd: round6(measureUsd) } } : {}),
    },
    loop: ctx.loop,
    environment: environment(),
    warnings,
    ...(ctx.series ? { series: ctx.series } : {}),
  };
}

/** Steps (by `ended_by`) that are not part of the cap search: cheap probes' calibration, measure_at levels. */
const NOT_CAP_EVIDENCE: ReadonlySet<string> = new Set(['calibration', 'measure']);

/** Builds the report of a finished (or stopped) run. */
export function buildReport(ctx: BuildContext, r: RunResult): Report {
  const perModel = r.models.map((m) => ({
    name: m.spec.name,
    weight: m.spec.weight,
    steps: m.driver.steps.map((st) => st.report(r.end_us)),
    unclear: m.unclear,
    ...(m.unclearWhy ? { unclearWhy: m.unclearWhy } : {}),
  }));
  if (!r.rehearsal) {
    const report = assembleReport(ctx, perModel, r.timeline, r.status, r.status_reason, (r.end_us - r.start_us) / 1000);
    if (r.budget) report.budget = r.budget;
    return report;
  }
  // Rate mode: no in-flight timeline (the rehearsal has its own per policy); caps are what the rehearsal saw.
  const report = assembleReport(ctx, perModel, [], r.status, r.status_reason, (r.end_us - r.start_us) / 1000);
  for (const m of report.models) m.cap = rateCap(m.steps, m.cap.documented);
  const stepsOf = (model: string) => report.models.find((m) => m.model === model)?.steps ?? [];
  report.rehearsal = buildRehearsal(r.rehearsal, ctx.pricing, stepsOf, ctx.expect ?? []);
  return report;
}

/**
 * Rebuilds a report from raw samples (samples.ndjson): steps are regrouped by (model, step); in-flight and
 * admitted-and-open counts are recomputed exactly from the samples' send/headers/end times.
 */
export function buildReportFromSamples(
  header: SamplesHeader,
  samples: readonly Sample[],
  loop?: LoopHealth,
  markers: readonly StepMarker[] = [],
  ends: readonly StepEndMarker[] = [],
): Report {
  const ctx: BuildContext = {
    name: header.name,
    startedAt: header.started_at,
    seed: header.seed,
    mode: header.mode,
    target: header.target,
    scenario: header.scenario,
    // The samples do not record dsprobe's event loop: its figures are unknown, not 0 (healthy).
    loop: loop ?? { delay_p50_ms: null, delay_p99_ms: null, delay_max_ms: null, warning: null },
    warnings: ['Rebuilt from samples.ndjson: event-loop figures of the original run are not in the samples (shown as unknown).'],
    pricing: header.pricing,
  };
  const names = header.models.map((m) => m.name);
  for (const s of samples) if (!names.includes(s.model)) names.push(s.model);
  let endUs = 0;
  for (const s of samples) endUs = Math.max(endUs, s.end_us);
  const perModel = names.map((name) => {
    const mine = samples.filter((s) => s.model === name);
    const marks = markers.filter((m) => m.model === name);
    const endedBy = new Map(ends.filter((m) => m.model === name).map((m) => [m.step, m.ended_by]));
    return { name, weight: header.models.find((m) => m.name === name)?.weight ?? 1, steps: stepsFromSamples(name, mine, endUs, marks, endedBy) };
  });
  const timeline = timelineFromSamples(perModel.map((m) => m.name), samples, endUs);
  ctx.series = seriesOf(samples, names);
  return assembleReport(ctx, perModel, timeline, 'completed', null, endUs / 1000);
}

function stepsFromSamples(model: string, samples: readonly Sample[], endUs: number, markers: readonly StepMarker[], endedBy: ReadonlyMap<number, string>): StepReport[] {
  const byStep = new Map<number, Sample[]>();
  for (const s of samples) {
    const list = byStep.get(s.step) ?? [];
    list.push(s);
    byStep.set(s.step, list);
  }
  // Step markers give every level its start and target, including levels that sent nothing new.
  const marked = new Map(markers.map((m) => [m.step, m]));
  for (const m of markers) if (!byStep.has(m.step)) byStep.set(m.step, []);
  const indices = [...byStep.keys()].sort((a, b) => a - b);
  const starts = indices.map((i) => marked.get(i)?.t_us ?? Math.min(...(byStep.get(i) as Sample[]).map((s) => s.intended_us)));
  // Sweep events: +1 at send, -1 at end (in flight); +1 at headers (non-429, < 400), -1 at end (admitted).
  type Ev = { t: number; d: number; admitted: boolean; s?: Sample };
  const evs: Ev[] = [];
  for (const s of samples) {
    evs.push({ t: s.sent_us, d: 1, admitted: false }, { t: s.end_us, d: -1, admitted: false });
    if (s.headers_us !== undefined && s.status !== undefined && s.status < 400) {
      evs.push({ t: s.headers_us, d: 1, admitted: true, s }, { t: s.end_us, d: -1, admitted: true, s });
    }
  }
  evs.sort((a, b) => a.t - b.t || a.d - b.d);
  const recs = indices.map((idx, k) => {
    const list = byStep.get(idx) as Sample[];
    const start = starts[k] as number;
    const end = (starts[k + 1] as number | undefined) ?? endUs;
    let inflight = 0;
    let admitted = 0;
    let j = 0;
    // Admitted-and-open per key and per user_id, as the driver tracks them live.
    const byKey = new Map<number, number>();
    const byUser = new Map<string, number>();
    const openBy = (x: Sample, d: number): [number, number] => {
      const k = (byKey.get(x.key_index) ?? 0) + d;
      const u = (byUser.get(x.user_id ?? '') ?? 0) + d;
      byKey.set(x.key_index, k);
      byUser.set(x.user_id ?? '', u);
      return [k, u];
    };
    for (; j < evs.length && (evs[j] as Ev).t <= start; j++) {
      const e = evs[j] as Ev;
      if (e.admitted) {
        admitted += e.d;
        if (e.s) openBy(e.s, e.d);
      } else inflight += e.d;
    }
    const rec = new StepRecorder(model, idx, marked.get(idx)?.target ?? list[0]?.target_inflight ?? 0, start, inflight);
    rec.admitted(admitted);
    for (const [k, n] of byKey) if (n > 0) rec.openPeaks(k, n, '\u0000', 0);
    for (const [u, n] of byUser) if (n > 0) rec.openPeaks(-1, 0, u, n);
    for (const x of list) rec.sent(x.key_index, x.user_id ?? '');
    for (; j < evs.length && (evs[j] as Ev).t <= end; j++) {
      const e = evs[j] as Ev;
      if (e.admitted) {
        admitted += e.d;
        rec.admitted(admitted);
        if (e.s) {
          const [k, u] = openBy(e.s, e.d);
          if (e.d > 0) {
            rec.openPeaks(e.s.key_index, k, e.s.user_id ?? '', u);
            // Fresh evidence, as live: a request of this step admitted with the whole level held.
            if (e.s.step === idx) rec.freshAdmission(admitted, e.t);
          }
        }
      } else {
        inflight += e.d;
        rec.inflight(e.t, inflight);
      }
    }
    rec.endUs = end;
    // The run's own label when its end marker made it to disk (not after a crash).
    rec.endedBy = endedBy.get(idx) ?? 'rebuilt';
    for (const s of list) rec.add(s);
    return rec;
  });
  // 429s answered once a higher level was current are that level's evidence, as the driver attributes them live.
  const recOf = new Map(recs.map((r) => [r.index, r]));
  for (const s of samples) {
    if (s.outcome !== 'rate_limited') continue;
    const own = recOf.get(s.step);
    const at = own && attributeLate429(recs, own, s.headers_us ?? s.end_us);
    if (own && at) own.lateLimited(at);
  }
  return recs.map((r) => r.report(r.endUs as number));
}

function timelineFromSamples(models: string[], samples: readonly Sample[], endUs: number): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  const bucketUs = 500_000;
  const n = Math.max(1, Math.ceil(endUs / bucketUs));
  for (const model of models) {
    const inflight = new Array<number>(n + 1).fill(0);
    const target = new Array<number>(n + 1).fill(0);
    const limited = new Array<number>(n + 1).fill(0);
    const completed = new Array<number>(n + 1).fill(0);
    for (const s of samples) {
      if (s.model !== model) continue;
      const a = Math.floor(s.sent_us / bucketUs);
      const b = Math.floor(s.end_us / bucketUs);
      for (let i = a; i <= b && i <= n; i++) inflight[i] = (inflight[i] as number) + 1;
      target[a] = Math.max(target[a] as number, s.target_inflight);
      const e = Math.min(n, b);
      completed[e] = (completed[e] as number) + 1;
      if (s.outcome === 'rate_limited') limited[e] = (limited[e] as number) + 1;
    }
    for (let i = 0; i <= n; i++) {
      out.push({ t_ms: (i * bucketUs) / 1000, model, inflight: inflight[i] as number, target: target[i] as number, rate_limited: limited[i] as number, completed: completed[i] as number });
    }
  }
  return out;
}

/** Keeps at most `maxPerModel` points per model: max in-flight and summed counts per bucket. */
export function downsampleTimeline(points: readonly TimelinePoint[], maxPerModel: number): TimelinePoint[] {
  const byModel = new Map<string, TimelinePoint[]>();
  for (const p of points) {
    const l = byModel.get(p.model) ?? [];
    l.push(p);
    byModel.set(p.model, l);
  }
  const out: TimelinePoint[] = [];
  for (const list of byModel.values()) {
    if (list.length <= maxPerModel) {
      out.push(...list);
      continue;
    }
    const per = Math.ceil(list.length / maxPerModel);
    for (let i = 0; i < list.length; i += per) {
      const chunk = list.slice(i, i + per);
      const first = chunk[0] as TimelinePoint;
      out.push({
        t_ms: first.t_ms,
        model: first.model,
        inflight: Math.max(...chunk.map((c) => c.inflight)),
        target: Math.max(...chunk.map((c) => c.target)),
        rate_limited: chunk.reduce((a, c) => a + c.rate_limited, 0),
        completed: chunk.reduce((a, c) => a + c.completed, 0),
        ...(first.backoff_waiting !== undefined ? { backoff_waiting: Math.max(...chunk.map((c) => c.backoff_waiting ?? 0)) } : {}),
      });
    }
  }
  return out.sort((a, b) => a.t_ms - b.t_ms);
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** The largest share of the machine's CPU time the host took in any level (`client.host_steal`; 0 when none recorded). */
export function maxHostSteal(models: readonly Pick<ModelReport, 'steps'>[]): number {
  return Math.max(0, ...models.flatMap((m) => (m.steps ?? []).map((st) => st.client?.host_steal ?? 0)));
}

/**
 * The summary's word on client-bound levels: which, why, and what to do. Null when dsprobe never set the pace.
 * `cpus`: the cores `--workers auto` counts on the machine that ran it, when known. More worker threads are advised
 * only while the run used fewer than `--workers auto` gives that machine (a step's `client.loop_p99_ms` has one
 * entry per thread: the main thread alone when it did the I/O itself, else the main thread and each worker).
 */
export function clientBoundWarning(models: readonly ModelReport[], cpus?: number): string | null {
  const bound = models.flatMap((m) => m.steps.filter((s) => s.client_bound).map((s) => ({ m: m.model, s })));
  if (!bound.length) return null;
  const first = bound[0] as { m: string; s: StepReport };
  const levels = bound.slice(0, 6).map((b) => `${b.m}@${b.s.target_inflight}`).join(', ');
  const threads = first.s.client?.loop_p99_ms.length ?? 0;
  const workers = threads > 1 ? threads - 1 : 1;
  const most = cpus !== undefined ? autoWorkers(cpus) : undefined;
  const todo =
    most !== undefined && threads > 0 && workers >= most
      ? `This run already used ${workers} worker thread(s), as many as this ${cpus}-core machine allows: lower the in-flight target, or shard the load over machines (docs/sharding.md).`
      : `Give dsprobe more threads (\`--workers N\`, up to ${most ?? 'the cores minus one'}${most !== undefined ? ' on this machine' : ''}), lower the in-flight target, or shard the load over machines (docs/sharding.md).`;
  // CPU time the host took from the machine meanwhile (run/host-cpu.ts): lag more threads cannot remove.
  const steal = Math.max(0, ...bound.map((b) => b.s.client?.host_steal ?? 0));
  const host =
    steal >= STEAL_NOTE_SHARE
      ? `The host took up to ${Math.round(steal * 100)} % of this machine's CPU time in them (CPU steal: a shared or overcommitted host): that part of the lag was the host's, and a dedicated machine or a larger instance removes it, where more threads cannot. `
      : '';
  return (
    `${bound.length} level(s) were client-bound (${levels}${bound.length > 6 ? ', ...' : ''}; e.g. ${first.s.client?.why ?? 'dsprobe lagged'}): ` +
    'their latency figures include dsprobe\'s own lag, and a level held only by dsprobe\'s own count is weak evidence. ' +
    host +
    todo
  );
}
