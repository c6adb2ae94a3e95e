/**
 * `dsprobe run --json`: a short machine-readable summary on stdout for scripts (the full data is in
 * report.json). Also home of the small helpers the CI renderers share.
 */
import type { Report } from '../types.js';

/** Schema id of the summary. */
export const SUMMARY_SCHEMA = 'dsprobe.summary/v1';

/** A URL safe to print: no user:password, no query string (where tokens sometimes hide). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Threshold counts and whether the run as a whole passed (completed, and every threshold passed). */
export function verdict(report: Report): { passed: boolean; failed: number; total: number } {
  const failed = report.thresholds.filter((t) => !t.passed).length;
  return { passed: report.status === 'completed' && failed === 0, failed, total: report.thresholds.length };
}

/** The summary object (`JSON.stringify` it). */
export function renderJsonSummary(report: Report): object {
  const v = verdict(report);
  return {
    schema: SUMMARY_SCHEMA,
    name: report.name,
    status: report.status,
    status_reason: report.status_reason,
    passed: v.passed,
    thresholds_failed: v.failed,
    thresholds_total: v.total,
    started_at: report.started_at,
    duration_ms: report.duration_ms,
    mode: report.mode,
    target: { ...report.target, url: safeUrl(report.target.url) },
    models: report.models.map((m) => ({
      model: m.model,
      cap: {
        status: m.cap.status,
        estimate: m.cap.estimate,
        low: m.cap.low,
        high: m.cap.high,
        server_reported: m.cap.server_reported,
        documented: m.cap.documented,
        headroom: m.cap.headroom,
        queueing_began_at: m.cap.queueing_began_at,
      },
      steps: m.steps.length,
      spend: { requests: m.spend.requests, admitted: m.spend.admitted, usd: m.spend.usd },
    })),
    thresholds: report.thresholds.map((t) => ({
      expression: t.expression,
      passed: t.passed,
      actual: t.actual,
      actual_text: t.actual_text,
      ...(t.note ? { note: t.note } : {}),
    })),
    cost: { usd: report.cost.usd, requests: report.cost.requests, admitted: report.cost.admitted, tokens: report.cost.tokens },
    warnings: report.warnings,
    // Rate mode: each policy's headline figures and the recommendation.
    ...(report.rehearsal
      ? {
          rehearsal: {
            recommendation: report.rehearsal.recommendation,
            policies: report.rehearsal.policies.map((p) => ({
              name: p.name,
              offered_rps: p.total.offered_rps,
              goodput_rps: p.total.goodput_rps,
              success_rate: p.total.success_rate,
              rate_429: p.total.rate_429,
              amplification: p.total.amplification,
              app_latency_p99_ms: p.total.app_latency_ms.p99,
              shed_by_reason: p.total.shed_by_reason,
            })),
          },
        }
      : {}),
  };
}
