/**
 * The terminal summary of a rate-mode rehearsal: one row per policy (and per model when the mix has several),
 * what the application saw beside what the server saw, then the recommendation.
 */
import type { PolicyModelReport, RehearsalReport } from '../types.js';

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v < 10 ? 1 : 0)}ms`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function row(label: string, m: PolicyModelReport, breaker: string): string[] {
  const shed = Object.entries(m.shed_by_reason).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    label,
    `${m.offered_rps.toFixed(1)}/s`,
    `${m.goodput_rps.toFixed(1)}/s`,
    pct(m.success_rate),
    pct(m.rate_429),
    pct(m.error_rate),
    m.amplification === null ? '-' : m.amplification.toFixed(2),
    m.app_latency_ms.count ? ms(m.app_latency_ms.p50) : '-',
    m.app_latency_ms.count ? ms(m.app_latency_ms.p99) : '-',
    m.attempt_latency_ms.count ? ms(m.attempt_latency_ms.p99) : '-',
    m.queue_wait_ms.count ? ms(m.queue_wait_ms.p99) : '-',
    String(m.peak_queue),
    m.usd_per_success === null ? '-' : `$${m.usd_per_success.toFixed(6)}`,
    breaker,
    shed || '-',
  ];
}

/** Rows of the rehearsal table (header first). */
export function rehearsalRows(r: RehearsalReport): string[][] {
  const rows = [['policy', 'offered', 'goodput', 'success', '429/att', 'err/att', 'ampl', 'app p50', 'app p99', 'attempt p99', 'queue p99', 'queue max', '$/success', 'breaker', 'shed']];
  for (const p of r.policies) {
    const b = p.breaker ? `${p.breaker.opens}x ${(p.breaker.open_ms / 1000).toFixed(1)}s, ${p.breaker.canaries_sent} canaries` : '-';
    rows.push(row(p.name, p.total, b));
    if (p.models.length > 1) for (const m of p.models) rows.push(row(`  ${m.model}`, m, ''));
  }
  return rows;
}

/** The lines under the table: the schedule and the recommendation. */
export function rehearsalLines(r: RehearsalReport): string[] {
  const stages = r.stages.map((s) => `${s.rate}/s for ${s.hold_ms / 1000}s`).join(', then ');
  const out = [`rehearsal: ${r.arrivals} ${r.arrival} arrivals (${stages}), the same for every policy; goodput counts successes while arrivals came`];
  out.push(r.recommendation.policy ? `recommended: ${r.recommendation.text}` : `recommended: none. ${r.recommendation.text}`);
  out.push(`  criteria: ${r.recommendation.criteria.join(', ')}`);
  return out;
}
