/**
 * Attaching headroom to a report's models: the needs come from the report's own (redacted) scenario, so a live
 * run, a rebuild from samples.ndjson and a merge of shards all weigh the same needs the same way.
 */
import type { ModelReport, Report } from '../types.js';
import type { NeedSpec } from '../scenario/types.js';
import { computeHeadroom } from '../measure/headroom.js';
import { needOf } from '../scenario/need.js';

/**
 * The `need` of every model in a report's scenario, by model id: the normalised form (`models: [{name, need:
 * {inflight} | {rate_per_s}}]`) or a scenario file's own (`models: {id: {need: 1800 | {rate: 300/s}}}`).
 */
export function needsOf(scenario: unknown): Map<string, NeedSpec> {
  const out = new Map<string, NeedSpec>();
  const models = (scenario as { models?: unknown } | null)?.models;
  const entries: [unknown, unknown][] = Array.isArray(models)
    ? (models as { name?: unknown; need?: unknown }[]).map((m) => [m?.name, m?.need])
    : models && typeof models === 'object'
      ? Object.entries(models as Record<string, { need?: unknown } | null>).map(([k, m]) => [k, m?.need])
      : [];
  for (const [name, n] of entries) {
    if (typeof name !== 'string' || n == null) continue;
    const r = n as Record<string, unknown>;
    if (typeof r.inflight === 'number' && r.inflight > 0) out.set(name, { inflight: r.inflight });
    else if (typeof r.rate_per_s === 'number' && r.rate_per_s > 0) out.set(name, { rate_per_s: r.rate_per_s });
    else {
      const spec = needOf(n);
      if (spec) out.set(name, spec);
    }
  }
  return out;
}

/** Sets `headroom` on every model whose scenario gives a need (and removes a stale one otherwise). */
export function attachHeadroom(models: ModelReport[], scenario: unknown): void {
  const needs = needsOf(scenario);
  for (const m of models) {
    const need = needs.get(m.model);
    if (need) m.headroom = computeHeadroom(m.cap, m.steps, need);
    else delete m.headroom;
  }
}

/** The run's headroom verdicts in one line, e.g. `deepseek-v4-flash fits (28%); deepseek-v4-pro does not fit (−12%)`. */
export function headroomLine(r: Report): string | null {
  const parts = r.models.filter((m) => m.headroom).map((m) => {
    const h = m.headroom!;
    const pct = h.headroom_fraction === null ? '' : ` (${h.headroom_fraction < 0 ? '−' : ''}${Math.abs(Math.round(h.headroom_fraction * 1000) / 10)}%)`;
    return `${m.model} ${h.verdict.replace(/_/g, ' ')}${pct}`;
  });
  return parts.length ? parts.join('; ') : null;
}
