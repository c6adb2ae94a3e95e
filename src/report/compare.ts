/**
 * Comparing runs (several reports) or models (one report with several models): caps, headroom, percentiles at
 * matching in-flight levels, 429 rates, deltas against the first (the baseline), and regressions flagged.
 *
 * Only levels under the cap (of the baseline and of the compared run) are judged: over the cap latency is the
 * server's admission queue, not a property of the run. A level is judged only with at least MIN_SAMPLES admitted
 * (successful) requests on each side.
 *
 * Noise, for "a p99 that rose", is two things, and both must be beaten:
 * - sample noise: a p99 read from n requests is only known to within an order-statistic confidence interval; at
 *   z = 3 the ranks n·0.99 ± 3·√(n·0.99·0.01) bound it (a distribution-free test). The rise is flagged only when
 *   the compared run's lower bound is above the baseline's upper bound, read from the HDR histograms;
 * - HDR precision: 3 significant digits, so a recorded value is within 0.1 % of the truth; the gap must exceed
 *   2 × that (and 1 ms);
 * - client noise: dsprobe's own stalls land in every latency it measures; each p99 may carry up to its run's
 *   worst event-loop delay, so a rise smaller than the two runs' worst delays added is not the server's. When
 *   either run warned that its loop was too busy for latency to be trusted (p99 delay > 50 ms), or the host took
 *   STEAL_JUDGE_SHARE or more of the machine's CPU time in one of its levels (CPU steal, which stalls the server on
 *   that machine as well as dsprobe), latency is not judged at all (the comparison says so);
 * and the rise must matter: more than 10 % of the baseline. A p99 needs MIN_SAMPLES_P99 admitted requests on each
 * side. Without histograms (a trimmed report) the interval rule is skipped. A cap has no such noise (it is an integer found to a precision of one request): any drop is
 * flagged. A 429 rate is flagged when it rose by more than 5 percentage points at a level under the cap.
 */
import type { CapEstimate, Report, StepReport } from '../types.js';
import { usageError } from '../errors.js';
import { levelsOf } from './html-data.js';
import { decodeHistogram } from '../measure/hist.js';
import { STEAL_JUDGE_SHARE } from '../measure/client.js';
import { maxHostSteal } from './build.js';

export { renderCompareHtml } from './html-compare.js';

/** The noise rule, written into every Comparison so readers see what "beyond noise" meant. */
export const NOISE = {
  p99_rel: 0.1,
  p99_abs_ms: 1,
  hdr_rel: 0.002,
  min_samples: 20,
  rate_429_abs: 0.05,
  /** z of the p99's order-statistic confidence interval (3: about 1 in 740 per side by chance). */
  z: 3,
  /** Fewest admitted requests per side for a p99 to be judged: with fewer, a p99 is the max of a handful. */
  min_samples_p99: 100,
} as const;

/** One column: a run's model (runs mode) or one model of a run (models mode). */
export interface Subject {
  label: string;
  model: string;
  cap: CapEstimate;
  /** Steps at one in-flight level combined, by level. */
  levels: Map<number, StepReport>;
  /** dsprobe's worst event-loop delay in that run, ms (0 when unknown). */
  loopMaxMs: number;
  /** The run warned that its latency figures may be skewed by dsprobe's own loop, or the host stole its CPU. */
  loopWarned: boolean;
}

/** A cap and its delta against the baseline's. */
export interface CapCell {
  label: string;
  model: string;
  status: CapEstimate['status'];
  estimate: number | null;
  low: number | null;
  high: number | null;
  server_reported: number | null;
  documented: number | null;
  headroom: number | null;
  /** estimate − baseline estimate (null for the baseline or when unknown). */
  delta: number | null;
}

/** One subject's figures at one in-flight level (ms; rates as fractions). */
export interface LevelCell {
  label: string;
  requests: number;
  rate_429: number;
  ttft_p50: number;
  ttft_p99: number;
  latency_p50: number;
  latency_p99: number;
  keepalive_p99: number;
  ttft_count: number;
  latency_count: number;
  /** Relative change against the baseline (0.12 = +12 %), null for the baseline or without data. */
  ttft_p99_delta: number | null;
  latency_p99_delta: number | null;
  /** Absolute change of the 429 rate (fraction). */
  rate_429_delta: number | null;
}

export interface CompareGroup {
  /** A model name (runs mode) or "models of LABEL" (models mode). */
  title: string;
  caps: CapCell[];
  /** In-flight levels present in the baseline and at least one other subject; cells align with `caps`. */
  levels: { inflight: number; cells: (LevelCell | null)[] }[];
}

export interface Regression {
  kind: 'cap_fell' | 'p99_rose' | 'rate_429_rose';
  group: string;
  label: string;
  inflight: number | null;
  metric: string;
  baseline: number;
  value: number;
  message: string;
}

/** The result of compareReports: everything renderCompareText/Html show. */
export interface Comparison {
  mode: 'runs' | 'models';
  baseline: string;
  labels: string[];
  groups: CompareGroup[];
  regressions: Regression[];
  noise: typeof NOISE;
  /** Why the runs may not be comparable: different scenarios, targets or protocols. */
  warnings: string[];
}

function subject(label: string, model: string, cap: CapEstimate, steps: readonly StepReport[], report?: Report): Subject {
  const loop = report?.loop;
  const stolen = report !== undefined && hostStealOf(report) >= STEAL_JUDGE_SHARE;
  return { label, model, cap, levels: new Map(levelsOf(steps).map((l) => [l.inflight, l.step])), loopMaxMs: loop?.delay_max_ms ?? 0, loopWarned: !!loop?.warning || stolen };
}

/** The largest share of the machine's CPU time the host took in any level of the run (0 when not recorded). */
function hostStealOf(r: Report): number {
  return maxHostSteal(r.models ?? []);
}

function capCell(s: Subject, base: Subject | null): CapCell {
  const c = s.cap;
  return {
    label: s.label,
    model: s.model,
    status: c.status,
    estimate: c.estimate,
    low: c.low,
    high: c.high,
    server_reported: c.server_reported,
    documented: c.documented,
    headroom: c.headroom,
    delta: base && c.estimate !== null && base.cap.estimate !== null ? c.estimate - base.cap.estimate : null,
  };
}

const rel = (v: number, b: number, n: number, nb: number) => (n > 0 && nb > 0 && b > 0 ? (v - b) / b : null);

function levelCell(s: StepReport, label: string, base: StepReport | null): LevelCell {
  const b = base && base !== s ? base : null;
  return {
    label,
    requests: s.requests,
    rate_429: s.rate_429,
    ttft_p50: s.ttft_ms.p50,
    ttft_p99: s.ttft_ms.p99,
    latency_p50: s.latency_ms.p50,
    latency_p99: s.latency_ms.p99,
    keepalive_p99: s.keepalive_wait_ms.p99,
    ttft_count: s.ttft_ms.count,
    latency_count: s.latency_ms.count,
    ttft_p99_delta: b ? rel(s.ttft_ms.p99, b.ttft_ms.p99, s.ttft_ms.count, b.ttft_ms.count) : null,
    latency_p99_delta: b ? rel(s.latency_ms.p99, b.latency_ms.p99, s.latency_ms.count, b.latency_ms.count) : null,
    rate_429_delta: b && s.requests > 0 && b.requests > 0 ? s.rate_429 - b.rate_429 : null,
  };
}

/** True when `value` rose over `base` beyond noise (see the module comment). */
export function p99RoseBeyondNoise(base: number, value: number, nBase: number, nValue: number, clientNoiseMs = 0): boolean {
  if (nBase < NOISE.min_samples_p99 || nValue < NOISE.min_samples_p99 || base <= 0) return false;
  const rise = value - base;
  return rise > base * NOISE.p99_rel && rise > Math.max(NOISE.p99_abs_ms, NOISE.hdr_rel * value, clientNoiseMs);
}

/**
 * The p99 of an encoded histogram with its order-statistic confidence interval at `z` (ms), or null when the
 * histogram is missing or empty. Distribution-free: the p99 lies between the values at ranks n·p ± z·√(n·p·(1−p)).
 */
export function p99Interval(encoded: string | undefined, z: number = NOISE.z): { p99: number; lo: number; hi: number; n: number } | null {
  if (!encoded) return null;
  const h = decodeHistogram(encoded);
  try {
    const n = h.totalCount;
    if (n === 0) return null;
    const half = (z * Math.sqrt(n * 0.99 * 0.01)) / n;
    const at = (q: number) => Math.round(q >= 1 ? h.maxValue : h.getValueAtPercentile(Math.max(0, q) * 100)) / 1000;
    return { p99: at(0.99), lo: at(0.99 - half), hi: at(0.99 + half), n };
  } finally {
    h.destroy();
  }
}

/**
 * True when a p99 rose beyond sample noise and HDR precision and by more than 10 % (see the module comment),
 * judged from the two histograms; false when either side has fewer than MIN_SAMPLES.
 */
export function p99RoseSignificantly(baseEnc: string | undefined, valueEnc: string | undefined, clientNoiseMs = 0): boolean | null {
  const b = p99Interval(baseEnc);
  const v = p99Interval(valueEnc);
  if (!b || !v) return null;
  if (b.n < NOISE.min_samples_p99 || v.n < NOISE.min_samples_p99) return false;
  const gap = v.lo - b.hi;
  const rise = v.p99 - b.p99;
  return gap > Math.max(NOISE.p99_abs_ms, NOISE.hdr_rel * v.lo) && rise > clientNoiseMs && rise > b.p99 * NOISE.p99_rel;
}

/** The level up to which a subject's figures are judged: its cap, or (not reached) no bound. */
function judgedUpTo(s: Subject): number {
  if (s.cap.estimate !== null && s.cap.status === 'found') return s.cap.estimate;
  if (s.cap.status === 'unclear') return s.cap.low ?? 0;
  return Infinity;
}

/**
 * One group of subjects. Runs (`union` false) are compared at the baseline's levels that another run also held;
 * models of one run (`union` true) each cover their own range, up to and past their own cap, so a Flash-vs-Pro
 * page shows Flash up to 2,500 even though Pro stopped near 500.
 */
function group(title: string, subjects: Subject[], flag: boolean, out: Regression[], union = false): CompareGroup {
  const base = subjects[0] as Subject;
  const caps = subjects.map((s, i) => capCell(s, i === 0 ? null : base));
  const all = union ? [...new Set(subjects.flatMap((s) => [...s.levels.keys()]))] : [...base.levels.keys()].filter((l) => subjects.slice(1).some((s) => s.levels.has(l)));
  const levels = all
    .sort((a, b) => a - b)
    .map((inflight) => ({
      inflight,
      cells: subjects.map((s) => {
        const st = s.levels.get(inflight);
        return st ? levelCell(st, s.label, base.levels.get(inflight) ?? null) : null;
      }),
    }));
  if (flag) {
    for (const s of subjects.slice(1)) {
      const b = base.cap.estimate;
      const bound = s.cap.estimate ?? (s.cap.high !== null ? s.cap.high - 1 : null);
      if (b !== null && bound !== null && bound < b) {
        out.push({ kind: 'cap_fell', group: title, label: s.label, inflight: null, metric: 'cap', baseline: b, value: bound, message: `${title}: cap fell from ${b} to ${bound} in ${s.label}` });
      }
    }
    for (const { inflight, cells } of levels) {
      const bc = cells[0];
      if (!bc) continue;
      // Over the baseline's cap, latency and 429s are the server's admission, not the run: not judged.
      if (inflight > judgedUpTo(base)) continue;
      cells.slice(1).forEach((c, k) => {
        const subj = subjects[k + 1] as Subject;
        if (!c || inflight > judgedUpTo(subj)) return;
        const bs = base.levels.get(inflight);
        const ss = subj.levels.get(inflight);
        const checks: [string, number, number, number, number, 'ttft' | 'latency'][] = [
          ['TTFT p99', bc.ttft_p99, c.ttft_p99, bc.ttft_count, c.ttft_count, 'ttft'],
          ['E2E p99', bc.latency_p99, c.latency_p99, bc.latency_count, c.latency_count, 'latency'],
        ];
        for (const [metric, bv, v, nb, nv, field] of checks) {
          if (base.loopWarned || subj.loopWarned) break;
          const clientNoise = base.loopMaxMs + subj.loopMaxMs;
          const sig = p99RoseSignificantly(bs?.histograms?.[field], ss?.histograms?.[field], clientNoise);
          if (sig ?? p99RoseBeyondNoise(bv, v, nb, nv, clientNoise)) {
            out.push({ kind: 'p99_rose', group: title, label: c.label, inflight, metric, baseline: bv, value: v, message: `${title} at ${inflight} in flight: ${metric} rose ${(((v - bv) / bv) * 100).toFixed(1)}% (${ms(bv, 1)} → ${ms(v, 1)}) in ${c.label}` });
          }
        }
        if (c.rate_429_delta !== null && c.rate_429_delta > NOISE.rate_429_abs && c.requests >= NOISE.min_samples) {
          out.push({ kind: 'rate_429_rose', group: title, label: c.label, inflight, metric: '429 rate', baseline: bc.rate_429, value: c.rate_429, message: `${title} at ${inflight} in flight: 429 rate rose from ${(bc.rate_429 * 100).toFixed(1)}% to ${(c.rate_429 * 100).toFixed(1)}% in ${c.label}` });
        }
      });
    }
  }
  return { title, caps, levels };
}

/**
 * Compares reports. Two or more reports: runs, per model, against the first report. One report with two or
 * more models: its models against its first model (no regressions: different models are not a regression).
 */
export function compareReports(reports: { label: string; report: Report }[]): Comparison {
  const regressions: Regression[] = [];
  if (reports.length === 1) {
    const { label, report } = reports[0] as { label: string; report: Report };
    if (report.models.length < 2) {
      throw usageError(`compare: ${label} has one model; give two or more reports, or one report with two or more models`);
    }
    const subjects = report.models.map((m) => subject(m.model, m.model, m.cap, m.steps));
    return {
      mode: 'models',
      baseline: subjects[0]?.label ?? '',
      labels: subjects.map((s) => s.label),
      groups: [group(`models of ${label}`, subjects, false, regressions, true)],
      regressions,
      noise: NOISE,
      warnings: [],
    };
  }
  if (reports.length === 0) throw usageError('compare: give two or more reports, or one report with two or more models');
  const names = [...new Set(reports.flatMap((r) => r.report.models.map((m) => m.model)))];
  const groups: CompareGroup[] = [];
  for (const name of names) {
    const subjects = reports
      .map(({ label, report }) => ({ label, m: report.models.find((m) => m.model === name) }))
      .filter((x) => x.m)
      .map(({ label, m }) => subject(label, name, m!.cap, m!.steps, reports.find((r) => r.label === label)?.report));
    // A model missing from the baseline has nothing to be compared against: it is listed, not judged.
    const inBaseline = reports[0]!.report.models.some((m) => m.model === name);
    groups.push(group(name, subjects, inBaseline && subjects.length > 1, regressions));
  }
  return { mode: 'runs', baseline: reports[0]!.label, labels: reports.map((r) => r.label), groups, regressions, noise: NOISE, warnings: comparability(reports) };
}

/** Keys of a scenario that differ between repeats of one test without making it another test. */
const VOLATILE = new Set(['seed', 'file', 'warnings']);

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().filter((k) => !VOLATILE.has(k)).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Top-level scenario keys whose values differ. */
function differingKeys(a: unknown, b: unknown): string[] {
  const ra = (a ?? {}) as Record<string, unknown>;
  const rb = (b ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !VOLATILE.has(k) && canonical(ra[k]) !== canonical(rb[k])).sort();
}

/**
 * Why runs may not be comparable: another scenario (name or content, the seed aside), another target URL, or
 * another protocol. Each against the baseline, in words.
 */
export function comparability(reports: readonly { label: string; report: Report }[]): string[] {
  const out: string[] = [];
  const base = reports[0];
  if (!base) return out;
  for (const { label, report } of reports.slice(1)) {
    const b = base.report;
    if (report.name !== b.name) out.push(`${label} ran scenario "${report.name}", ${base.label} ran "${b.name}": different scenarios.`);
    else {
      const keys = differingKeys(b.scenario, report.scenario);
      if (keys.length) out.push(`${label} and ${base.label} ran different versions of scenario "${b.name}" (${keys.join(', ')} differ).`);
    }
    if (report.target.url !== b.target.url) out.push(`${label} ran against ${report.target.url}, ${base.label} against ${b.target.url}: different targets.`);
    if (report.target.protocol !== b.target.protocol) out.push(`${label} used the ${report.target.protocol} protocol, ${base.label} ${b.target.protocol}.`);
  }
  const busy = reports.filter((r) => r.report.loop?.warning);
  if (busy.length) {
    out.push(`Latency is not judged against ${busy.map((r) => `${r.label} (loop delay p99 ${r.report.loop.delay_p99_ms ?? '?'} ms)`).join(', ')}: dsprobe's own event loop was too busy for its latency figures to be trusted. Caps and 429 rates still are.`);
  }
  const stolen = reports.filter((r) => !r.report.loop?.warning && hostStealOf(r.report) >= STEAL_JUDGE_SHARE);
  if (stolen.length) {
    out.push(`Latency is not judged against ${stolen.map((r) => `${r.label} (the host took up to ${Math.round(hostStealOf(r.report) * 100)} % of the machine's CPU time)`).join(', ')}: a shared or overcommitted host stalled the machine (CPU steal), dsprobe and anything serving on it alike. Caps and 429 rates still are.`);
  }
  return out;
}

// ---- Terminal rendering ----

const int = (n: number | null) => (n === null ? '–' : Math.round(n).toLocaleString('en-US'));
const signed = (n: number | null) => (n === null ? '' : n > 0 ? ` (+${int(n)})` : n < 0 ? ` (−${int(-n)})` : ' (=)');
const ms = (v: number, n: number) => (n === 0 ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}ms`);
const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
const relText = (d: number | null) => (d === null ? '' : ` (${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(0)}%)`);
const ppText = (d: number | null) => (d === null ? '' : ` (${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)}pp)`);

/** Pads rows of cells into aligned columns (first column left-aligned, others right-aligned). */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd())
    .join('\n');
}

/** The comparison as terminal text: one table per group, then the regressions (or that there were none). */
export function renderCompareText(c: Comparison): string {
  const out: string[] = [];
  out.push(c.mode === 'models' ? `Comparing models against ${c.baseline}` : `Comparing ${c.labels.length} runs against ${c.baseline}`);
  for (const w of c.warnings ?? []) out.push(`warning: ${w}`);
  for (const g of c.groups) {
    const marks = (label: string, kind: Regression['kind'], inflight: number | null, metric?: string) =>
      c.regressions.some((r) => r.group === g.title && r.label === label && r.kind === kind && r.inflight === inflight && (!metric || r.metric === metric)) ? ' !' : '';
    const rows: string[][] = [['', ...g.caps.map((k) => k.label)]];
    rows.push(['cap', ...g.caps.map((k) => `${int(k.estimate)} ${k.status}${signed(k.delta)}${marks(k.label, 'cap_fell', null)}`)]);
    rows.push(['bracket', ...g.caps.map((k) => `${int(k.low)}..${int(k.high)}`)]);
    rows.push(["server's figure", ...g.caps.map((k) => int(k.server_reported))]);
    rows.push(['headroom', ...g.caps.map((k) => (k.headroom === null ? '–' : `${k.headroom > 0 ? '+' : k.headroom < 0 ? '−' : ''}${int(Math.abs(k.headroom))} vs ${int(k.documented)}`))]);
    for (const { inflight, cells } of g.levels) {
      rows.push([`@ ${int(inflight)} in flight`, ...cells.map(() => '')]);
      rows.push(['  429 rate', ...cells.map((x) => (x ? `${pct(x.rate_429)}${ppText(x.rate_429_delta)}${marks(x.label, 'rate_429_rose', inflight)}` : '–'))]);
      rows.push(['  TTFT p50', ...cells.map((x) => (x ? ms(x.ttft_p50, x.ttft_count) : '–'))]);
      rows.push(['  TTFT p99', ...cells.map((x) => (x ? `${ms(x.ttft_p99, x.ttft_count)}${relText(x.ttft_p99_delta)}${marks(x.label, 'p99_rose', inflight, 'TTFT p99')}` : '–'))]);
      rows.push(['  E2E p99', ...cells.map((x) => (x ? `${ms(x.latency_p99, x.latency_count)}${relText(x.latency_p99_delta)}${marks(x.label, 'p99_rose', inflight, 'E2E p99')}` : '–'))]);
      rows.push(['  keep-alive p99', ...cells.map((x) => (x ? ms(x.keepalive_p99, x.keepalive_p99 > 0 ? 1 : 0) : '–'))]);
    }
    out.push('', g.title, table(rows));
    if (!g.levels.length) out.push('(no in-flight level in common with the baseline)');
  }
  out.push('');
  if (c.mode === 'models') {
    out.push('Models are compared side by side; regressions are only judged between runs.');
  } else if (c.regressions.length) {
    out.push(`REGRESSIONS (${c.regressions.length}), marked ! above:`);
    for (const r of c.regressions) out.push(`  - ${r.message}`);
  } else {
    out.push('No regression beyond noise.');
  }
  out.push(`Noise: only levels under the cap with >= ${c.noise.min_samples} admitted requests on each side are judged; a p99 is flagged when its ${c.noise.z}-sigma order-statistic interval clears the baseline's by more than HDR precision and it rose > ${c.noise.p99_rel * 100}%; a 429 rate when it rose > ${c.noise.rate_429_abs * 100}pp; a cap on any drop.`);
  return out.join('\n') + '\n';
}
