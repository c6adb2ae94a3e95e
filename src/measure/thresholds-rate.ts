/**
 * Thresholds over a rate-mode rehearsal (report.rehearsal): goodput, success_rate, amplification, percentiles of
 * app_latency and queue_wait, and the per-attempt metrics (rate_429, error_rate, latency, ttft, ...) of one policy.
 *
 * Which policy: the one named by `policy == NAME`; without it, the only policy, else the recommended one, else
 * the one with the most goodput (the note says which). Which models: the one named, else all together.
 */
import type { PolicyModelReport, PolicyReport, RehearsalReport, Report } from '../types.js';
import { mergeEncoded } from './hist.js';
import type { ThresholdAst } from './thresholds-parse.js';

const PCT: Record<string, number> = { p50: 50, p90: 90, p95: 95, p99: 99 };

interface Measured {
  actual: number | null;
  note?: string;
}

/** The policy an expression without `policy ==` judges (see the file comment). */
export function defaultPolicy(r: RehearsalReport): PolicyReport | undefined {
  if (r.policies.length <= 1) return r.policies[0];
  const rec = r.policies.find((p) => p.name === r.recommendation.policy);
  if (rec) return rec;
  return [...r.policies].sort((a, b) => b.total.goodput_rps - a.total.goodput_rps)[0];
}

/** True when an expression needs a rehearsal to be measured (rate-mode metric, app-level field, or a policy). */
export function needsRehearsal(ast: ThresholdAst): boolean {
  return ast.metric === 'goodput' || ast.metric === 'amplification' || ast.field === 'app_latency' || ast.field === 'queue_wait' || ast.policy !== undefined;
}

/** Measures an expression on one policy of a rehearsal (`policy` given), or picks it as described above. */
export function measureRehearsal(ast: ThresholdAst, report: Pick<Report, 'rehearsal'>, policy?: PolicyReport): Measured {
  const r = report.rehearsal;
  if (!r) return { actual: null, note: 'only measured in rate mode (load.mode: rate)' };
  let p = policy;
  let note: string | undefined;
  if (!p && ast.policy !== undefined) {
    p = r.policies.find((x) => x.name === ast.policy);
    if (!p) return { actual: null, note: `policy ${ast.policy} is not in this report (policies: ${r.policies.map((x) => x.name).join(', ')})` };
  }
  if (!p) {
    p = defaultPolicy(r);
    if (!p) return { actual: null, note: 'no policy ran' };
    if (r.policies.length > 1) note = `policy ${p.name}${p.name === r.recommendation.policy ? ' (the recommended one)' : ' (the most goodput; none was recommended)'}`;
  }
  let m: PolicyModelReport | undefined = p.total;
  if (ast.model !== undefined) {
    m = p.models.find((x) => x.model === ast.model);
    if (!m) return { actual: null, note: `model ${ast.model} is not in this report` };
  }
  const out = (actual: number | null, why?: string): Measured => {
    const n = [note, why].filter(Boolean).join('; ');
    return n ? { actual, note: n } : { actual };
  };
  switch (ast.metric) {
    case 'goodput':
      return out(m.goodput_rps);
    case 'success_rate':
      return m.arrivals ? out(m.success_rate) : out(null, 'no arrivals');
    case 'amplification':
      return m.amplification === null ? out(null, 'nothing succeeded') : out(m.amplification);
    case 'rate_429':
      return m.attempts ? out(m.rate_429) : out(null, 'no attempts');
    case 'error_rate':
      return m.attempts ? out(m.error_rate) : out(null, 'no attempts');
    case 'cap':
      return out(null, 'cap is not measured per policy');
  }
  const field = ast.field!;
  const enc =
    field === 'app_latency' ? m.histograms.app_latency : field === 'queue_wait' ? m.histograms.queue_wait : null;
  if (enc === null) {
    // Per-attempt fields come from the policy's steps, one per model.
    return out(null, `${field} per policy: use p99(${field}, MODEL) on the steps, or app_latency`);
  }
  const h = mergeEncoded([enc]);
  if (h.totalCount === 0) return out(null, `no ${field} data`);
  const us = ast.metric === 'max' ? h.maxValue : ast.metric === 'mean' ? h.mean : h.getValueAtPercentile(PCT[ast.metric]!);
  return out(Math.round(us) / 1000);
}
