/**
 * The rate-mode section of report.json (`rehearsal`): per policy and model, what the application saw beside what
 * the server saw, the cap seen, and the recommendation. Pure: from the executor's recorders and the steps.
 */
import type { CapEstimate, PolicyModelReport, PolicyReport, RehearsalReport, StepReport, TokenTotals } from '../types.js';
import type { Scenario, ThresholdSpec } from '../scenario/types.js';
import type { OpenLoopResult } from '../run/open-loop.js';
import type { AppStats } from '../types.js';
import { usdOf } from '../cost/cost.js';
import { emptyTokens, addTotals } from '../measure/recorder.js';
import { combineSteps } from './merge.js';
import { parseThreshold } from '../measure/thresholds-parse.js';
import { compare, formatValue } from '../measure/thresholds-eval.js';
import { measureRehearsal } from '../measure/thresholds-rate.js';

/** Outcomes counted as errors per attempt (429s and dsprobe's own aborts are not). */
const ERROR_OUTCOMES = ['client_error', 'server_error', 'timeout', 'network', 'protocol'] as const;

/** Success rate a policy needs to be recommended when the scenario sets none. */
export const DEFAULT_SUCCESS_RATE = 0.99;

const r3 = (v: number) => Math.round(v * 1000) / 1000;

function figures(model: string, app: AppStats, step: StepReport, durationS: number, tokens: TokenTotals, usd: number): PolicyModelReport {
  const errors = ERROR_OUTCOMES.reduce((n, o) => n + (step.outcomes[o] ?? 0), 0);
  return {
    model,
    ...app,
    offered_rps: r3(app.arrivals / durationS),
    goodput_rps: r3(app.ok_in_schedule / durationS),
    success_rate: app.arrivals ? app.ok / app.arrivals : 0,
    rate_429: step.requests ? step.rate_limited / step.requests : 0,
    error_rate: step.requests ? errors / step.requests : 0,
    amplification: app.ok ? r3(app.attempts / app.ok) : null,
    attempt_latency_ms: step.latency_ms,
    tokens,
    usd: Math.round(usd * 1e6) / 1e6,
    usd_per_success: app.ok ? usd / app.ok : null,
    tokens_per_success: app.ok ? r3((tokens.prompt + tokens.completion) / app.ok) : null,
    peak_admitted: step.peak_admitted,
  };
}

/** The cap seen for one model over every policy: the server's quoted figure, else the most held when refusing. */
export function capSeen(steps: readonly StepReport[]): { cap: number | null; source: 'server_reported' | 'peak_admitted' | null } {
  const quoted = steps.map((s) => s.server_reported).filter((v): v is number => v !== null);
  if (quoted.length) return { cap: Math.max(...quoted), source: 'server_reported' };
  const refused = steps.filter((s) => s.rate_limited > 0);
  if (refused.length) return { cap: Math.max(...refused.map((s) => s.peak_admitted)), source: 'peak_admitted' };
  return { cap: null, source: null };
}

/** A rate-mode cap block for models[].cap: what the rehearsal saw (it does not search). */
export function rateCap(steps: readonly StepReport[], documented: number | null): CapEstimate {
  const seen = capSeen(steps);
  const peak = Math.max(0, ...steps.map((s) => s.peak_admitted));
  const evidence = seen.cap === null
    ? [`No 429 during the rehearsal: the server held up to ${peak} at once, so the cap is above that.`]
    : [`429s during the rehearsal; ${seen.source === 'server_reported' ? `the server quoted a concurrency of ${seen.cap}` : `the server held ${seen.cap} at once while refusing`}.`, 'Rate mode does not search: run load.mode search for a bracketed cap.'];
  return {
    status: seen.cap === null ? 'not_reached' : 'found',
    low: seen.cap === null ? peak || null : null,
    high: null,
    estimate: seen.cap,
    server_reported: seen.source === 'server_reported' ? seen.cap : null,
    documented,
    headroom: seen.cap !== null && documented !== null ? seen.cap - documented : null,
    edge: null,
    moved: false,
    queueing_began_at: null,
    evidence,
  };
}

/** Builds `report.rehearsal`. `stepsOf(model)` are that model's steps (one per policy, in policy order). */
export function buildRehearsal(
  r: OpenLoopResult,
  pricing: Scenario['pricing'],
  stepsOf: (model: string) => StepReport[],
  expect: readonly ThresholdSpec[],
): RehearsalReport {
  const rate = r.rate;
  const durationS = Math.max(1e-6, r.schedule.duration_us / 1e6);
  const policies: PolicyReport[] = r.policies.map((p, pi) => {
    const models = p.models.map((m) => {
      const step = stepsOf(m.model)[pi]!;
      const price = pricing[m.model];
      return figures(m.model, m.app.stats(), step, durationS, step.tokens, price ? usdOf(step.tokens, price) : 0);
    });
    const steps = p.models.map((m) => stepsOf(m.model)[pi]!);
    const tokens = emptyTokens();
    for (const st of steps) addTotals(tokens, st.tokens);
    const usd = models.reduce((a, m) => a + m.usd, 0);
    const total = models.length === 1 ? models[0]! : figures('all', p.all.stats(), combineSteps(steps, 'shards', ['latency']), durationS, tokens, usd);
    const b = p.breaker;
    return {
      name: p.policy.name,
      spec: policySpec(p.policy),
      start_ms: Math.round(p.start_us / 1000),
      duration_ms: Math.round((p.end_us - p.start_us) / 1000),
      models,
      total,
      breaker: b
        ? { opens: b.opens, open_ms: Math.round(b.openUs(p.end_us) / 1000), canaries_sent: b.canariesSent, canaries_failed: b.canariesFailed, changes: b.changes.map((c) => ({ t_ms: Math.round((c.t_us - p.start_us) / 1000), state: c.state })) }
        : null,
    };
  });
  const modelNames = r.policies[0]?.models.map((m) => m.model) ?? [];
  const caps = modelNames.map((m) => ({ model: m, ...capSeen(stepsOf(m)) }));
  const out: RehearsalReport = {
    arrival: rate.arrival,
    stages: rate.stages.map((x) => ({ ...x })),
    duration_ms: rate.duration_ms,
    arrivals: r.schedule.t_us.length,
    max_inflight: rate.max_inflight,
    bucket_ms: r.bucket_us / 1000,
    policies,
    caps,
    recommendation: { policy: null, criteria: [], pool: null, pool_vs_cap: null, text: '' },
  };
  out.recommendation = recommend(out, expect);
  return out;
}

function policySpec(p: OpenLoopResult['policies'][number]['policy']): PolicyReport['spec'] {
  const out: PolicyReport['spec'] = {};
  if (p.pool !== undefined) out.pool = p.pool;
  if (p.queue_timeout_ms !== undefined) out.queue_timeout_ms = p.queue_timeout_ms;
  if (p.retry) out.retry = { ...p.retry };
  if (p.breaker) out.breaker = { ...p.breaker };
  return out;
}

/**
 * The policy with the most goodput among those that meet the scenario's success_rate and app_latency
 * thresholds that apply to them (unscoped, or scoped to that policy); 99 % success when the scenario sets no
 * success_rate. The pool it implies: its pool, else the most it kept on the wire; beside the cap seen.
 */
export function recommend(r: RehearsalReport, expect: readonly ThresholdSpec[]): RehearsalReport['recommendation'] {
  const criteria = expect
    .map((e) => ({ e, ast: parseThreshold(e.expression).ast }))
    .filter((x) => x.ast && (x.ast.metric === 'success_rate' || x.ast.field === 'app_latency'));
  const hasSuccess = criteria.some((c) => c.ast!.metric === 'success_rate');
  const words = criteria.map((c) => c.e.expression);
  if (!hasSuccess) words.unshift(`success_rate >= ${DEFAULT_SUCCESS_RATE * 100}% (default)`);
  const passes = (p: PolicyReport): boolean => {
    if (!hasSuccess && p.total.success_rate < DEFAULT_SUCCESS_RATE) return false;
    for (const c of criteria) {
      const ast = c.ast!;
      if (ast.policy !== undefined && ast.policy !== p.name) continue;
      const m = measureRehearsal({ ...ast, policy: undefined }, { rehearsal: r }, p);
      if (m.actual === null || !compare(m.actual, ast.op, ast.value)) return false;
    }
    return true;
  };
  const ok = r.policies.filter(passes).sort((a, b) => b.total.goodput_rps - a.total.goodput_rps);
  const best = ok[0];
  if (!best) {
    return { policy: null, criteria: words, pool: null, pool_vs_cap: null, text: `No policy met ${words.join(' and ')}: offer less traffic, or raise the cap.` };
  }
  const pool = best.spec.pool ?? Math.max(0, ...best.total.timeline.map((t) => t.inflight_max));
  const known = r.caps.filter((c) => c.cap !== null);
  const cap = known.length === r.caps.length && known.length > 0 ? known.reduce((a, c) => a + (c.cap as number), 0) : null;
  const share = cap ? Math.round((pool / cap) * 1000) / 1000 : null;
  const t = best.total;
  const capText = cap === null ? 'no cap was seen during the rehearsal (no 429), so it cannot be compared' : `${Math.round((share as number) * 100)}% of the cap seen (${cap})`;
  const text =
    `${best.name}: goodput ${formatValue(t.goodput_rps, 'per_s')} of ${formatValue(t.offered_rps, 'per_s')} offered, success ${formatValue(t.success_rate, 'fraction')}, ` +
    `p99 application latency ${formatValue(t.app_latency_ms.p99, 'ms')}; ${best.spec.pool !== undefined ? `its pool of ${pool}` : `it kept up to ${pool} on the wire, so a pool of ${pool}`} is ${capText}.`;
  return { policy: best.name, criteria: words, pool, pool_vs_cap: share, text };
}
