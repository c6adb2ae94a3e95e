/**
 * What a cheap cap search (`probe: cheap`) and a `measure_at` measurement are expected to cost, apart from each
 * other: `dsprobe plan` prints both, and `dsprobe watch` projects a day of probes from the first.
 *
 * A cheap level launches its requests once and cuts them all when it is decided, so a level of N costs at most N
 * admitted requests (429s cost nothing), each its few prompt tokens plus the output streamed before the cut.
 */
import type { Scenario } from '../scenario/types.js';
import { documentedCap } from '../models.js';
import { CHEAP_PROMPT, cheapMaxTokens, cheapSearchConfig, isCheap } from './cheap.js';
import { CHARS_PER_TOKEN } from '../protocol/prompt.js';
import { assumedLatencyMs } from './estimate.js';
import { formatUsd } from '../cost/cost.js';

/** Prompt tokens assumed per cheap probe: its text plus a chat-template allowance (servers add role markers). */
export const CHEAP_PROMPT_TOKENS = Math.ceil(CHEAP_PROMPT.length / CHARS_PER_TOKEN) + 4;
/** Output tokens assumed streamed per admitted probe before its level is decided and cut. */
export const CHEAP_OUTPUT_TOKENS = 20;

/** The cheap search and the measurement, priced apart. */
export interface CheapPlan {
  search: {
    /** Requests admitted over all levels, expected with the cap at the documented figure (else load.max). */
    admitted: number;
    /** Expected USD: admitted × (prompt + CHEAP_OUTPUT_TOKENS output). */
    usd: number;
    /** USD if every admitted probe streamed its whole max_tokens (no level decided before its hold ran out). */
    worst_usd: number;
  };
  measure: { levels: { model: string; fraction: number; inflight: number; requests: number; usd: number }[]; usd: number };
  assumptions: string[];
}

/** Admitted requests of a cold search when the cap is `cap`: the climb, then the guess, one over, two re-checks. */
export function expectedSearchAdmitted(start: number, growth: number, cap: number, max: number, recheck: boolean): number {
  let n = 0;
  let level = Math.min(start, max);
  for (;;) {
    n += Math.min(level, cap);
    if (level > cap || level >= max) break;
    level = Math.min(max, Math.max(level + 1, Math.round(level * growth)));
  }
  if (cap < max) n += 2 * cap + (recheck ? 2 * cap : 0);
  return n;
}

/** Prices the cheap search and the measure_at levels of `s` (search mode). Pure. */
export function estimateCheap(s: Scenario, opts: { latency_ms?: number; caps?: Readonly<Record<string, number>> } = {}): CheapPlan {
  const cheap = isCheap(s);
  const maxTokens = cheap ? cheapMaxTokens(s) : s.request.max_tokens;
  const promptTokens = cheap ? CHEAP_PROMPT_TOKENS + (s.probe?.system_prefix_tokens ?? 0) : s.request.prompt_tokens;
  const outTokens = cheap ? CHEAP_OUTPUT_TOKENS : s.request.max_tokens;
  const latency = opts.latency_ms ?? assumedLatencyMs(s.request.max_tokens);
  const plan: CheapPlan = { search: { admitted: 0, usd: 0, worst_usd: 0 }, measure: { levels: [], usd: 0 }, assumptions: [] };
  for (const m of s.models) {
    const price = s.pricing[m.name];
    const max = m.max ?? s.load.max;
    const cap = Math.min(opts.caps?.[m.name] ?? documentedCap(m.name) ?? max, max);
    const climb = cheapSearchConfig(s);
    const admitted = expectedSearchAdmitted(m.inflight ?? s.load.start, climb.growth, cap, max, climb.recheck);
    plan.search.admitted += admitted;
    if (price) {
      plan.search.usd += (admitted * (promptTokens * price.input_cache_miss + outTokens * price.output)) / 1e6;
      plan.search.worst_usd += (admitted * (promptTokens * price.input_cache_miss + maxTokens * price.output)) / 1e6;
    }
    for (const f of s.measure_at ?? []) {
      const inflight = Math.max(1, Math.floor(f * cap));
      const requests = inflight * Math.max(1, Math.ceil(s.load.hold_ms / latency));
      const usd = price ? (requests * (s.request.prompt_tokens * price.input_cache_miss + s.request.max_tokens * price.output)) / 1e6 : 0;
      plan.measure.levels.push({ model: m.name, fraction: f, inflight, requests, usd });
      plan.measure.usd += usd;
    }
  }
  plan.assumptions.push(
    cheap
      ? `cheap search: the cap at the documented figure (else load.max); each admitted probe ~${promptTokens} prompt tokens (cache misses) and ~${outTokens} output tokens streamed before its level is decided and cut; 429s cost nothing`
      : `search at the workload: the cap at the documented figure (else load.max); each admitted request its ${promptTokens} prompt and ${outTokens} output tokens`,
  );
  if (s.measure_at?.length) plan.assumptions.push(`measure_at: each fraction of the documented cap (else load.max) held ${s.load.hold_ms / 1000}s with the workload's requests, refilled every ${Math.round(latency)} ms`);
  return plan;
}

/** The two costs as text lines for `plan` and `watch`. */
export function renderCheapText(c: CheapPlan): string {
  const out = [`cap search: ~${formatUsd(c.search.usd)} expected (${c.search.admitted.toLocaleString('en-US')} admitted requests), at most ${formatUsd(c.search.worst_usd)} if no level were decided before its hold ran out`];
  if (c.measure.levels.length) {
    out.push(`measurement at the workload (measure_at): ${formatUsd(c.measure.usd)} worst case`);
    for (const l of c.measure.levels) out.push(`  ${l.model} at ${Math.round(l.fraction * 100)}%: ${l.inflight} in flight, ${l.requests.toLocaleString('en-US')} requests, ${formatUsd(l.usd)}`);
  }
  for (const a of c.assumptions) out.push(`  - ${a}`);
  return out.join('\n') + '\n';
}
