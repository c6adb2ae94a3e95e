/**
 * `dsprobe plan`: the worst case a scenario may spend, before anything is sent.
 *
 * Assumptions (printed with every plan):
 * - Every admitted request uses request.prompt_tokens of input, all billed as cache misses, and the full
 *   request.max_tokens of output (reasoning included). Cache hits and early stops only lower the cost.
 * - A request takes ASSUMED latency = 0.5 s + 10 ms per output token (100 tokens/s), a fast server: a fast
 *   server finishes more requests per held level, so it is the expensive case. `latency_ms` overrides it.
 * - The engine refills every finished slot at once, so a level of N held H ms starts N × ceil(H / latency)
 *   requests; requests still open when a level ends are counted in full.
 * - 429s (load.on_429): above the model's cap (the mock's configured cap, else the documented one) the slots over
 *   it are refused and back off; each draws expectedRefusalsPerSlot() refusals per held level. Refusals cost
 *   nothing. A ramp ends after the first step whose predicted 429 share is over stop.max_429_rate.
 * - Ramp: every step held in full. Search, per model: geometric climb from the start
 *   level (× load.growth) to the max, the cap just under the max, two guessed levels (counted at the max),
 *   bisection down to load.precision, and the two re-check levels; every level held in full. Models search side by side, so the duration is the
 *   longest model's.
 */
import type { Price, Scenario } from '../scenario/types.js';
import { documentedCap } from '../models.js';
import { rampSteps } from './ramp.js';
import { parseMockConfig } from '../mock/index.js';
import { FALLBACK_CAP } from '../mock/config.js';

/** The schema id of `dsprobe plan --json`. */
export const PLAN_SCHEMA = 'dsprobe.plan/v1';
import { expectedRefusalsPerSlot } from './backoff.js';

/** Round trip of a 429 (it is answered at admission), ms: only matters with the backoff off. */
export const ASSUMED_429_RTT_MS = 10;
const NO_BACKOFF = { enabled: false, base_ms: 0, factor: 1, cap_ms: 0 };
/** One model's part of a planned step. */
export interface PlanModelStep {
  model: string;
  phase: 'ramp' | 'climb' | 'guess' | 'bisect' | 'recheck';
  inflight: number;
  requests: number;
  /** Of `requests`, the predicted 429s (slots over the cap backing off). */
  refused?: number;
  tokens: number;
  usd: number;
}

/** One planned step: what every model does while it is held. */
export interface PlanStep {
  index: number;
  hold_ms: number;
  models: PlanModelStep[];
}

/** Totals for one model or the whole run. */
export interface PlanTotals {
  requests: number;
  tokens: number;
  usd: number;
  duration_ms: number;
}

/** What `dsprobe plan` prints (and `--json` emits). */
export interface PlanEstimate {
  /** `dsprobe.plan/v1`. */
  schema: typeof PLAN_SCHEMA;
  name: string;
  mode: 'search' | 'ramp' | 'rate';
  target: string;
  steps: PlanStep[];
  per_model: (PlanTotals & { model: string; levels: number; max_inflight: number; priced: boolean })[];
  worst_case: PlanTotals;
  /** The per-request latency assumed, ms. */
  latency_ms: number;
  /** With the built-in mock as the target: the caps it enforces, per model (the plan's levels stop there). */
  mock_caps?: Record<string, number>;
  budget: { max_usd?: number; max_tokens?: number; limits_spend: boolean };
  assumptions: string[];
  warnings: string[];
}

/** Assumed request latency, ms: 0.5 s to first token, then 100 output tokens/s. */
export function assumedLatencyMs(maxTokens: number): number {
  return 500 + 10 * maxTokens;
}

/** The levels a search may visit for one model in the worst case, in order. */
export function worstSearchLevels(start: number, max: number, growth: number, precision: number, recheck: boolean): { level: number; phase: PlanModelStep['phase'] }[] {
  const out: { level: number; phase: PlanModelStep['phase'] }[] = [];
  let level = Math.min(start, max);
  let prev = 0;
  for (;;) {
    out.push({ level, phase: 'climb' });
    if (level >= max) break;
    prev = level;
    level = Math.min(max, Math.max(level + 1, Math.round(level * growth)));
  }
  // The cap sits just under the max. The search first tries the level the server was seen holding on the
  // 429 level and one above it (counted at the max: an upper bound), then bisects between the last clean
  // level and the max, every probe clean (levels rise toward the max: the dearest path).
  let lo = prev;
  const hi = level;
  if (lo > 0) {
    if (hi - lo > precision) {
      out.push({ level: hi, phase: 'guess' });
      out.push({ level: hi, phase: 'guess' });
    }
    while (hi - lo > precision) {
      const mid = Math.floor((lo + hi) / 2);
      out.push({ level: mid, phase: 'bisect' });
      lo = mid;
    }
    if (recheck) {
      out.push({ level: lo, phase: 'recheck' });
      out.push({ level: hi, phase: 'recheck' });
    }
  }
  return out;
}

function perRequest(s: Scenario, price: Price | undefined, output = s.request.max_tokens): { tokens: number; usd: number } {
  const tokens = s.request.prompt_tokens + output;
  if (!price) return { tokens, usd: 0 };
  return { tokens, usd: (s.request.prompt_tokens * price.input_cache_miss + output * price.output) / 1e6 };
}

/** What the built-in mock will do, from the scenario's `mock:` block: its caps, its latency, its output length. */
interface MockView {
  caps: Record<string, number>;
  /** Mean request duration at no load, real ms (time_scale applied). No load is the fast, expensive case. */
  latency_ms: number;
  /** Mean output tokens a request gets (answer, plus reasoning when thinking), at most max_tokens. */
  output_tokens: number;
}

function mockView(s: Scenario): MockView | null {
  if (s.target.url !== 'mock') return null;
  const { config } = parseMockConfig(s.mock ?? {});
  const l = config.latency;
  const mean = (r: { min: number; max: number }) => (r.min + r.max) / 2;
  const output = Math.min(s.request.max_tokens, mean(l.answer_tokens) + (s.request.thinking ? mean(l.reasoning_tokens) : 0));
  const nominal = l.prefill_overhead_ms + l.prefill_per_token_ms * s.request.prompt_tokens + l.inter_token_ms * output;
  const caps: Record<string, number> = {};
  for (const m of s.models) caps[m.name] = config.caps[m.name] ?? FALLBACK_CAP;
  return { caps, latency_ms: Math.max(1, nominal * config.time_scale), output_tokens: Math.round(output) };
}

/**
 * The levels a search visits on the mock, whose cap is known: the climb up to the first level over the cap (or
 * the max), then the cap and one above it (the level the server held on the 429 level, and its neighbour), then
 * the two re-checks. What the mock's search really does, when requests stay open long enough to be seen held.
 */
export function mockSearchLevels(start: number, max: number, growth: number, recheck: boolean, cap: number): { level: number; phase: PlanModelStep['phase'] }[] {
  const out: { level: number; phase: PlanModelStep['phase'] }[] = [];
  let level = Math.min(start, max);
  for (;;) {
    out.push({ level, phase: 'climb' });
    if (level > cap || level >= max) break;
    level = Math.min(max, Math.max(level + 1, Math.round(level * growth)));
  }
  if (level > cap) {
    if (level !== cap + 1) out.push({ level: cap, phase: 'guess' }, { level: cap + 1, phase: 'guess' });
    if (recheck) out.push({ level: cap, phase: 'recheck' }, { level: cap + 1, phase: 'recheck' });
  }
  return out;
}

/** The worst-case plan of a scenario: steps, requests, tokens, dollars and duration. Pure. */
export function estimatePlan(s: Scenario, opts: { latency_ms?: number } = {}): PlanEstimate {
  const mock = mockView(s);
  const latency = opts.latency_ms ?? mock?.latency_ms ?? assumedLatencyMs(s.request.max_tokens);
  const warnings: string[] = [];
  const seqs = new Map<string, { level: number; phase: PlanModelStep['phase']; hold_ms: number }[]>();

  if (s.load.mode === 'ramp') {
    for (const step of rampSteps(s)) {
      for (const t of step) {
        if (!seqs.has(t.model)) seqs.set(t.model, []);
        seqs.get(t.model)!.push({ level: t.inflight, phase: 'ramp', hold_ms: t.hold_ms });
      }
    }
  } else if (s.load.mode === 'rate' && s.load.rate) {
    // Open loop: Little's law gives the in-flight level of each stage (rate × latency); every policy runs the
    // whole schedule, and every arrival may use all of its policy's attempts.
    const totalWeight = s.models.reduce((a, m) => a + m.weight, 0) || 1;
    for (const m of s.models) {
      const seq: { level: number; phase: PlanModelStep['phase']; hold_ms: number }[] = [];
      for (const p of s.policies ?? [{ name: 'none' }]) {
        for (const st of s.load.rate.stages) {
          const perSecond = (st.rate * m.weight) / totalWeight;
          seq.push({ level: Math.max(1, Math.ceil((perSecond * latency) / 1000)) * (p.retry?.max_attempts ?? 1), phase: 'ramp', hold_ms: st.hold_ms });
        }
      }
      seqs.set(m.name, seq);
    }
  } else {
    for (const m of s.models) {
      let max = m.max ?? s.load.max;
      const doc = documentedCap(m.name);
      if (s.target.url !== 'mock' && s.safety_margin !== undefined && doc !== null) {
        const capped = Math.floor(doc * (1 - s.safety_margin));
        if (capped < max) max = capped;
      }
      const start = m.inflight ?? s.load.start;
      const levels = mock
        ? mockSearchLevels(start, max, s.load.growth, s.load.recheck, mock.caps[m.name]!)
        : worstSearchLevels(start, max, s.load.growth, s.load.precision, s.load.recheck);
      seqs.set(m.name, levels.map((l) => ({ ...l, hold_ms: s.load.hold_ms })));
    }
  }

  // A ramp ends after the first step whose predicted 429 share is over the stop rule: cut every model's sequence there.
  if (s.load.mode === 'ramp' && s.stop.max_429_rate !== undefined) {
    const n = Math.max(0, ...[...seqs.values()].map((q) => q.length));
    for (let i = 0; i < n; i++) {
      let req = 0;
      let ref = 0;
      for (const m of s.models) {
        const x = seqs.get(m.name)?.[i];
        if (!x) continue;
        const r = levelRequests(s, m.name, x.level, x.hold_ms, latency);
        req += r.admitted + r.refused;
        ref += r.refused;
      }
      if (req > 0 && ref / req > s.stop.max_429_rate) {
        for (const q of seqs.values()) q.splice(i + 1);
        break;
      }
    }
  }

  const steps: PlanStep[] = [];
  const perModel: PlanEstimate['per_model'] = [];
  for (const m of s.models) {
    const seq = seqs.get(m.name) ?? [];
    const price = s.pricing[m.name];
    if (!price) warnings.push(`no price for ${m.name}: its dollars count as 0 (add it under pricing:)`);
    const each = perRequest(s, price, mock?.output_tokens);
    // Over the mock's cap only the cap is admitted: the rest draw 429s, which cost nothing.
    const admitted = (level: number) => (mock ? Math.min(level, mock.caps[m.name]!) : level);
    const totals = { model: m.name, levels: seq.length, max_inflight: 0, priced: !!price, requests: 0, tokens: 0, usd: 0, duration_ms: 0 };
    seq.forEach((x, i) => {
      const lv = levelRequests(s, m.name, x.level, x.hold_ms, latency);
      const requests = lv.admitted + lv.refused;
      const entry: PlanModelStep = { model: m.name, phase: x.phase, inflight: x.level, requests, tokens: lv.admitted * each.tokens, usd: lv.admitted * each.usd };
      if (lv.refused) entry.refused = lv.refused;
      if (!steps[i]) steps[i] = { index: i, hold_ms: x.hold_ms, models: [] };
      steps[i]!.models.push(entry);
      totals.requests += requests;
      totals.tokens += entry.tokens;
      totals.usd += entry.usd;
      totals.duration_ms += x.hold_ms;
      totals.max_inflight = Math.max(totals.max_inflight, x.level);
    });
    perModel.push(totals);
  }

  const worst = {
    requests: sum(perModel.map((m) => m.requests)),
    tokens: sum(perModel.map((m) => m.tokens)),
    usd: sum(perModel.map((m) => m.usd)),
    // Ramp steps run all models together; searches run side by side: either way the longest sequence.
    duration_ms: Math.max(0, ...perModel.map((m) => m.duration_ms)),
  };
  const b = s.budget;
  const limits = (b.max_usd !== undefined && b.max_usd < worst.usd) || (b.max_tokens !== undefined && b.max_tokens < worst.tokens);
  const budget: PlanEstimate['budget'] = { limits_spend: limits };
  if (b.max_usd !== undefined) budget.max_usd = b.max_usd;
  if (b.max_tokens !== undefined) budget.max_tokens = b.max_tokens;

  const assumptions = [
    mock
      ? `each admitted request uses ${s.request.prompt_tokens} prompt tokens (all billed as cache misses) and ${mock.output_tokens} output tokens (the mock's mean answer${s.request.thinking ? ' and reasoning' : ''}, at most max_tokens ${s.request.max_tokens})`
      : `each admitted request uses ${s.request.prompt_tokens} prompt tokens (all billed as cache misses) and the full max_tokens of ${s.request.max_tokens} output tokens`,
    `each request takes ${Math.round(latency)} ms${opts.latency_ms !== undefined ? '' : mock ? " (the mock's latency model at no load, time_scale applied; override with --latency)" : ' (0.5 s + 10 ms per output token: a fast server, the expensive case; override with --latency)'}, and a finished slot is refilled at once`,
    s.load.mode === 'rate'
      ? 'rate: every arrival of every policy admitted and, with retries, using all its attempts (the in-flight level shown is rate × latency × attempts)'
      : mock && s.load.mode === 'search'
      ? `search on the mock: its caps are known (${Object.entries(mock.caps).map(([k, v]) => `${k} ${v}`).join(', ')}): climb ×${s.load.growth} to the first level over the cap, then the cap and one above it${s.load.recheck ? ', then the two re-checks' : ''}; every level held the full ${s.load.hold_ms / 1000}s; over the cap only the cap is admitted (429s cost nothing)`
      : s.load.mode === 'search'
      ? `search: climb ×${s.load.growth} from the start to the max, the cap just under the max, two guessed levels, bisection to ±${s.load.precision}${s.load.recheck ? ', two re-checks' : ''}; every level held the full ${s.load.hold_ms / 1000}s and nothing rate-limited (a 429 costs nothing); the real search usually decides a level long before its hold ends`
      : 'ramp: every step held in full',
    s.load.mode === 'search'
      ? 'search: a level ends at its first 429, so 429s add little'
      : s.load.on_429?.enabled === false
      ? `load.on_429 backoff is OFF: every slot over the cap is refused about once per ${ASSUMED_429_RTT_MS} ms (a 429 storm)`
      : `slots over the cap (${s.target.url === 'mock' ? "the mock's configured cap" : 'the documented cap'}) are refused and back off (full jitter, base ${(s.load.on_429?.base_ms ?? 1000) / 1000}s ×${s.load.on_429?.factor ?? 2} up to ${(s.load.on_429?.cap_ms ?? 30000) / 1000}s); 429s cost nothing`,
  ];
  if (s.target.url === 'mock') assumptions.push('target is the built-in mock: nothing is billed; dollars show what the same traffic would cost at the prices above');
  if (s.request.system_prefix_tokens > 0) assumptions.push(`the ${s.request.system_prefix_tokens}-token shared prefix will mostly hit the cache, so the real input cost is lower`);
  if (s.safety_margin !== undefined && s.load.mode === 'search' && s.target.url !== 'mock') {
    assumptions.push(`safety_margin ${s.safety_margin}: each search stops at the documented cap × ${1 - s.safety_margin}`);
  }
  return {
    schema: PLAN_SCHEMA,
    name: s.name,
    mode: s.load.mode,
    target: s.target.url,
    steps,
    per_model: perModel,
    worst_case: worst,
    latency_ms: latency,
    ...(mock ? { mock_caps: mock.caps } : {}),
    budget,
    assumptions,
    warnings,
  };
}

/** The cap a level is predicted against: the mock's configured cap, else the documented one (none: no 429s). */
function capOf(s: Scenario, model: string): number {
  if (s.target.url === 'mock') {
    const caps = (s.mock?.['caps'] ?? {}) as Record<string, unknown>;
    const c = caps[model];
    if (typeof c === 'number') return c;
  }
  return documentedCap(model) ?? Infinity;
}

/** Requests one model starts in a level held `holdMs`: admitted ones (slots under the cap) and predicted 429s. */
function levelRequests(s: Scenario, model: string, level: number, holdMs: number, latencyMs: number): { admitted: number; refused: number } {
  // The search stops launching at a level's first 429: against a real target its worst case stays "every level
  // admitted in full"; on the mock, whose cap is known, only the cap is admitted and the refusals are a handful.
  const search = s.load.mode === 'search';
  const cap = search && s.target.url !== 'mock' ? Infinity : capOf(s, model);
  const under = Math.min(level, cap);
  const over = search ? 0 : Math.max(0, level - cap);
  const admitted = under * Math.max(1, Math.ceil(holdMs / latencyMs));
  const spec = s.load.on_429 ?? { enabled: true, base_ms: 1000, factor: 2, cap_ms: 30_000 };
  const refused = over > 0 ? over * expectedRefusalsPerSlot(spec.enabled ? spec : NO_BACKOFF, holdMs, ASSUMED_429_RTT_MS) : 0;
  return { admitted, refused };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/**
 * The plan for `--json`: the same object with every figure rounded (dollars to 1/10,000, milliseconds and
 * counts to whole numbers), so it diffs cleanly and carries no float noise.
 */
export function roundPlan(p: PlanEstimate): PlanEstimate {
  const usd = (n: number) => Math.round(n * 10_000) / 10_000;
  const tot = <T extends PlanTotals>(t: T): T => ({ ...t, requests: Math.round(t.requests), tokens: Math.round(t.tokens), usd: usd(t.usd), duration_ms: Math.round(t.duration_ms) });
  return {
    ...p,
    steps: p.steps.map((st) => ({ ...st, hold_ms: Math.round(st.hold_ms), models: st.models.map((m) => ({ ...m, requests: Math.round(m.requests), tokens: Math.round(m.tokens), usd: usd(m.usd) })) })),
    per_model: p.per_model.map(tot),
    worst_case: tot(p.worst_case),
    latency_ms: Math.round(p.latency_ms),
    budget: { ...p.budget, ...(p.budget.max_usd !== undefined ? { max_usd: usd(p.budget.max_usd) } : {}) },
  };
}
