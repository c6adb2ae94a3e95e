/**
 * The plan (plan/estimate.ts) as text for a terminal: the steps, the worst case, the assumptions.
 */
import type { Scenario } from '../scenario/types.js';
import { loadMeaning } from '../scenario/mode-keys.js';
import { formatDuration } from '../time/duration.js';
import { formatUsd } from '../cost/cost.js';
import type { PlanEstimate } from './estimate.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Steps shown in full before the table is abbreviated (head and tail). */
const MAX_ROWS = 40;

/** The plan as text for a terminal: the steps, the worst case, the assumptions. Ends with a newline. */
export function renderPlanText(s: Pick<Scenario, 'name' | 'models'> & Partial<Pick<Scenario, 'load'>>, plan: PlanEstimate): string {
  const models = s.models.map((m) => m.name);
  const head = ['step', 'hold', ...models.map((m) => `${m} in-flight`), 'requests', 'tokens', 'usd'];
  const rows: string[][] = plan.steps.map((st) => {
    const cells = models.map((m) => {
      const e = st.models.find((x) => x.model === m);
      return e ? `${int(e.inflight)}${e.phase === 'ramp' ? '' : ` (${e.phase})`}` : '-';
    });
    const req = st.models.reduce((n, e) => n + e.requests, 0);
    const tok = st.models.reduce((n, e) => n + e.tokens, 0);
    const usd = st.models.reduce((n, e) => n + e.usd, 0);
    return [String(st.index + 1), formatDuration(st.hold_ms), ...cells, int(req), int(tok), formatUsd(usd)];
  });
  let shown = rows;
  if (rows.length > MAX_ROWS) {
    const gap = ['...', '', ...models.map(() => ''), '', '', ''];
    shown = [...rows.slice(0, MAX_ROWS / 2), gap, ...rows.slice(-MAX_ROWS / 2)];
  }
  const table = [head, ...shown];
  const widths = head.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = table.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());

  const w = plan.worst_case;
  const out: string[] = [];
  out.push(`plan: ${plan.name} (${plan.mode}, target ${plan.target})`);
  if (s.load) out.push(`  ${loadMeaning(s.load, s.models)}`);
  out.push(...lines);
  out.push('');
  out.push(`worst case: ${int(w.requests)} requests, ${int(w.tokens)} tokens, ${formatUsd(w.usd)}, ${formatDuration(w.duration_ms)}`);
  for (const m of plan.per_model) {
    out.push(`  ${m.model}: ${m.levels} level(s) up to ${int(m.max_inflight)} in flight, ${int(m.requests)} requests, ${int(m.tokens)} tokens, ${m.priced ? formatUsd(m.usd) : 'no price'}`);
  }
  if (plan.budget.max_usd !== undefined || plan.budget.max_tokens !== undefined) {
    const parts = [plan.budget.max_usd !== undefined ? formatUsd(plan.budget.max_usd) : '', plan.budget.max_tokens !== undefined ? `${int(plan.budget.max_tokens)} tokens` : ''].filter(Boolean);
    out.push(`budget: ${parts.join(', ')}${plan.budget.limits_spend ? ' (the run stops there if it gets that far)' : ' (above the worst case)'}`);
  }
  out.push('assumptions:');
  for (const a of plan.assumptions) out.push(`  - ${a}`);
  for (const wn of plan.warnings) out.push(`warning: ${wn}`);
  return out.join('\n') + '\n';
}
