/**
 * Evaluates parsed thresholds over a Report: caps from `models[].cap`, rates from step counts, percentiles
 * from the steps' HDR histograms merged over the scope (so a p99 over several steps is exact, not an
 * average of p99s).
 */
import type { Report, StepReport, ThresholdResult } from '../types.js';
import { mergeEncoded } from './hist.js';
import type { Comparison, PercentileName, ThresholdAst } from './thresholds-parse.js';
import { measureRehearsal, needsRehearsal, policySteps } from './thresholds-rate.js';

/** Outcome classes counted by error_rate: failures that are neither 429s nor aborts dsprobe caused itself. */
const ERROR_OUTCOMES = ['client_error', 'server_error', 'timeout', 'network', 'protocol'] as const;

const PCT: Record<string, number> = { p50: 50, p90: 90, p95: 95, p99: 99 };

/** `actual OP value`. Equality allows for float noise (1e-9 relative). */
export function compare(actual: number, op: Comparison, value: number): boolean {
  const eq = Math.abs(actual - value) <= 1e-9 * Math.max(1, Math.abs(value));
  switch (op) {
    case '<':
      return actual < value && !eq;
    case '<=':
      return actual < value || eq;
    case '>':
      return actual > value && !eq;
    case '>=':
      return actual > value || eq;
    case '==':
      return eq;
    case '!=':
      return !eq;
  }
}

/** Human text for a value in a metric's unit: `850ms`, `2.31s`, `0.4%`, `2480`. */
export function formatValue(v: number, unit: ThresholdAst['unit']): string {
  if (unit === 'ms') {
    if (v < 1) return `${Math.round(v * 1000)}us`;
    if (v < 1000) return `${Math.round(v * 10) / 10}ms`;
    return `${Math.round(v / 10) / 100}s`;
  }
  if (unit === 'fraction') return `${Math.round(v * 10000) / 100}%`;
  if (unit === 'per_s') return `${Math.round(v * 100) / 100}/s`;
  return String(Math.round(v * 100) / 100);
}

function inScope(step: StepReport, ast: ThresholdAst): boolean {
  return !ast.scope || compare(step.target_inflight, ast.scope.op, ast.scope.value);
}

interface Measured {
  actual: number | null;
  note?: string;
}

function measure(ast: ThresholdAst, report: Report): Measured {
  // Rate mode: application-level metrics and per-policy forms are measured on the rehearsal.
  if (needsRehearsal(ast) || (report.rehearsal && ast.metric === 'success_rate')) return measureRehearsal(ast, report);
  const models = ast.model === undefined ? report.models : report.models.filter((m) => m.model === ast.model);
  if (ast.model !== undefined && models.length === 0) {
    return { actual: null, note: `model ${ast.model} is not in this report (models: ${report.models.map((m) => m.model).join(', ') || 'none'})` };
  }
  if (ast.metric === 'cap') {
    const cap = models[0]!.cap;
    if (cap.status === 'found' && cap.estimate !== null) return { actual: cap.estimate };
    if (cap.status === 'not_reached' && cap.low !== null) {
      return { actual: cap.estimate ?? cap.low, note: 'cap not reached: the value is the highest level admitted in full, a lower bound' };
    }
    return cap.estimate !== null
      ? { actual: cap.estimate, note: `cap status is ${cap.status}` }
      : { actual: null, note: `no cap estimate (status ${cap.status})` };
  }
  if (ast.metric === 'headroom') {
    const m = models[0]!;
    const h = m.headroom;
    if (!h) return { actual: null, note: `no need given for ${m.model}: add models.${m.model}.need to the scenario` };
    if (h.headroom_fraction === null) return { actual: null, note: h.reason };
    return h.cap_lower_bound ? { actual: h.headroom_fraction, note: 'cap not reached: headroom is a lower bound' } : { actual: h.headroom_fraction };
  }
  // Rate mode: the steps of the policy judged (one per model and policy).
  const ps = policySteps(ast, report);
  if ('error' in ps) return { actual: null, note: ps.error };
  const withNote = (m: Measured): Measured => (ps.note && m.actual !== null ? { ...m, note: [ps.note, m.note].filter(Boolean).join('; ') } : m);
  const steps = models.flatMap((m) => m.steps).filter((s) => inScope(s, ast) && ps.keep(s));
  const scopeText = ast.scope ? ` at inflight ${ast.scope.op} ${ast.scope.value}` : '';
  if (ast.metric === 'ok') {
    // Zero successes is data (the CI check must fail on it), not "no data".
    return { actual: steps.reduce((n, s) => n + s.ok, 0) };
  }
  if (ast.metric === 'success_rate') {
    // Of the requests that got an answer of their own: 429s (refused at admission) and requests dsprobe cut
    // itself are neither successes nor failures.
    let ok = 0;
    let failed = 0;
    for (const s of steps) {
      ok += s.ok;
      failed += ERROR_OUTCOMES.reduce((n, o) => n + (s.outcomes[o] ?? 0), 0);
    }
    if (ok + failed === 0) return { actual: null, note: `no request completed or failed${scopeText}` };
    return { actual: ok / (ok + failed) };
  }
  if (ast.metric === 'rate_429' || ast.metric === 'error_rate') {
    let requests = 0;
    let hits = 0;
    for (const s of steps) {
      requests += s.requests;
      hits += ast.metric === 'rate_429' ? s.rate_limited : ERROR_OUTCOMES.reduce((n, o) => n + (s.outcomes[o] ?? 0), 0);
    }
    if (requests === 0) return { actual: null, note: `no requests${scopeText}` };
    return withNote({ actual: hits / requests });
  }
  // Percentiles over the merged histograms of the steps in scope.
  const field = ast.field as keyof Report['models'][number]['steps'][number]['histograms'];
  const encoded = steps.map((s) => s.histograms?.[field] ?? '');
  if (steps.length > 0 && encoded.some((e) => e !== '')) {
    const h = mergeEncoded(encoded);
    if (h.totalCount === 0) return { actual: null, note: `no ${field} data${scopeText}` };
    const us = ast.metric === 'max' ? h.maxValue : ast.metric === 'mean' ? h.mean : h.getValueAtPercentile(PCT[ast.metric]!);
    return withNote({ actual: Math.round(us) / 1000 });
  }
  // No histograms (a hand-made or trimmed report): fall back to the steps' own percentiles.
  const key = `${field}_ms` as 'ttft_ms' | 'latency_ms' | 'keepalive_wait_ms' | 'tpot_ms';
  const withData = steps.filter((s) => s[key] && s[key].count > 0);
  if (withData.length === 0) return { actual: null, note: `no ${field} data${scopeText}` };
  const m = ast.metric as PercentileName;
  if (withData.length === 1) return { actual: withData[0]![key][m] };
  return {
    actual: Math.max(...withData.map((s) => s[key][m])),
    note: 'no histograms in the report: the worst step value is used',
  };
}

/** Evaluates one parsed threshold against a report. No data means failed, with a note saying so. */
export function evaluateAst(ast: ThresholdAst, report: Report): { passed: boolean; actual: number | null; actual_text: string; note?: string } {
  const m = measure(ast, report);
  if (m.actual === null) {
    // No data fails by default: a CI check must not pass on nothing measured. `or none` says "none is fine".
    if (ast.orNone) return { passed: true, actual: null, actual_text: 'none', note: `${m.note ?? 'no data'} (allowed by \`or none\`)` };
    return { passed: false, actual: null, actual_text: 'no data', note: `${m.note ?? 'no data'}: a threshold with no data fails; add \`or none\` if none is fine` };
  }
  return {
    passed: compare(m.actual, ast.op, ast.value),
    actual: m.actual,
    actual_text: formatValue(m.actual, ast.unit),
    ...(m.note ? { note: m.note } : {}),
  };
}

/** Converts an evaluation to the report's ThresholdResult shape. */
export function toResult(
  expression: string,
  abortOnFail: boolean,
  r: { passed: boolean; actual: number | null; actual_text: string; note?: string },
): ThresholdResult {
  const out: ThresholdResult = { expression, passed: r.passed, actual: r.actual, actual_text: r.actual_text, abort_on_fail: abortOnFail };
  if (r.note) out.note = r.note;
  return out;
}
