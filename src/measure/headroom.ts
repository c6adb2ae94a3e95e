/**
 * Headroom against a plan: a model's cap weighed against what it must carry (`models.X.need`). Pure: the
 * cap estimate and the steps in, a Headroom out (documented in docs/report-schema.md and docs/thresholds.md).
 *
 * A need in flight is taken as given. A planned rate becomes in flight by Little's law: in flight = rate ×
 * mean time in the system. The mean latency depends on the load, so the level used is the lowest measured
 * level under the cap that carries the rate (level ≥ rate × mean latency at that level); its p99 latency
 * gives `need_p99`, the in flight a slow spell needs.
 */
import type { CapEstimate, Headroom, HeadroomVerdict, StepReport } from '../types.js';
import type { NeedSpec } from '../scenario/types.js';
import { mergeEncoded } from './hist.js';

/** Below this share of the cap to spare, a need that fits is `tight` (the `headroom(MODEL) >= 20%` default). */
export const TIGHT_BELOW = 0.2;

/** One measured level: every step at that target combined (latency of successful requests, µs histograms). */
interface LevelLatency {
  level: number;
  ok: number;
  rate_limited: number;
  ttft: { p50: number; p99: number };
  latency: { p50: number; p99: number; mean: number };
}

const ms = (us: number) => Math.round(us) / 1000;

/** Levels that had successful requests, ascending, with their merged TTFT and end-to-end latency. */
function levels(steps: readonly StepReport[]): LevelLatency[] {
  const by = new Map<number, StepReport[]>();
  for (const s of steps) if (s.ok > 0) by.set(s.target_inflight, [...(by.get(s.target_inflight) ?? []), s]);
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([level, list]) => {
      const t = mergeEncoded(list.map((s) => s.histograms?.ttft ?? ''));
      const l = mergeEncoded(list.map((s) => s.histograms?.latency ?? ''));
      const out: LevelLatency = {
        level,
        ok: list.reduce((a, s) => a + s.ok, 0),
        rate_limited: list.reduce((a, s) => a + s.rate_limited, 0),
        // Reports without histograms (hand-made, trimmed) fall back to the worst step's own percentiles.
        ttft: t.totalCount
          ? { p50: ms(t.getValueAtPercentile(50)), p99: ms(t.getValueAtPercentile(99)) }
          : { p50: Math.max(...list.map((s) => s.ttft_ms.p50)), p99: Math.max(...list.map((s) => s.ttft_ms.p99)) },
        latency: l.totalCount
          ? { p50: ms(l.getValueAtPercentile(50)), p99: ms(l.getValueAtPercentile(99)), mean: ms(l.mean) }
          : { p50: Math.max(...list.map((s) => s.latency_ms.p50)), p99: Math.max(...list.map((s) => s.latency_ms.p99)), mean: Math.max(...list.map((s) => s.latency_ms.mean)) },
      };
      t.destroy();
      l.destroy();
      return out;
    });
}

/** The cap a need is weighed against: the estimate, or the highest level admitted in full when not reached. */
function capOf(c: CapEstimate): { cap: number | null; lower: boolean } {
  if (c.status === 'found' && c.estimate !== null) return { cap: c.estimate, lower: false };
  if (c.status === 'not_reached') return { cap: c.estimate ?? c.low, lower: true };
  return { cap: null, lower: false };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Weighs `cap` against `need` for one model's steps. */
export function computeHeadroom(cap: CapEstimate, steps: readonly StepReport[], need: NeedSpec): Headroom {
  const { cap: capN, lower } = capOf(cap);
  const all = levels(steps);
  // Levels under the cap (or, when the cap is unknown, those that drew no 429) speak for the need's latency.
  const under = all.filter((l) => (capN !== null && !lower ? l.level <= capN : l.rate_limited === 0));
  const h: Headroom = {
    need_from: 'inflight' in need ? 'inflight' : 'rate',
    rate_per_s: 'rate_per_s' in need ? need.rate_per_s : null,
    need: null,
    need_p99: null,
    cap: capN,
    cap_lower_bound: lower,
    headroom: null,
    headroom_fraction: null,
    level: null,
    ttft_ms: null,
    latency_ms: null,
    verdict: 'unknown',
    reason: '',
  };
  let at: LevelLatency | undefined;
  let extrapolated = false;
  if ('inflight' in need) {
    h.need = need.inflight;
    at = under.find((l) => l.level >= need.inflight) ?? under[under.length - 1];
    extrapolated = at !== undefined && at.level < need.inflight;
  } else {
    const rate = need.rate_per_s;
    at = under.find((l) => l.level >= (rate * l.latency.mean) / 1000);
    if (!at) {
      at = under[under.length - 1];
      extrapolated = at !== undefined;
    }
    if (at) {
      h.need = Math.ceil((rate * at.latency.mean) / 1000);
      h.need_p99 = Math.ceil((rate * at.latency.p99) / 1000);
    }
  }
  if (at) {
    h.level = at.level;
    h.ttft_ms = at.ttft;
    h.latency_ms = at.latency;
  }
  const [verdict, reason] = judge(h, cap, extrapolated);
  h.verdict = verdict;
  h.reason = reason;
  if (h.need !== null && capN !== null) {
    h.headroom = capN - h.need;
    h.headroom_fraction = capN > 0 ? Math.round(((capN - h.need) / capN) * 10000) / 10000 : null;
  }
  return h;
}

function judge(h: Headroom, c: CapEstimate, extrapolated: boolean): [HeadroomVerdict, string] {
  const rateText = h.rate_per_s !== null ? ` (${h.rate_per_s.toLocaleString('en-US')} requests/s × ${h.latency_ms ? (h.latency_ms.mean / 1000).toFixed(2) : '?'} s mean latency at ${fmt(h.level ?? 0)} in flight)` : '';
  const extra = extrapolated
    ? h.need_from === 'rate'
      ? ' No measured level under the cap carried this rate: the latency of the highest one was used, so the need is likely higher.'
      : ` No level at or above the need was measured under the cap: latency is from ${fmt(h.level ?? 0)} in flight.`
    : '';
  if (h.need === null) {
    return ['unknown', `The need could not be derived: no successful request was measured under the cap to give a latency for Little's law.`];
  }
  if (h.cap === null) return ['unknown', `Cap ${c.status}: nothing to weigh the need of ${fmt(h.need)} in flight against.`];
  const spare = (h.cap - h.need) / h.cap;
  const pct = `${Math.round(spare * 1000) / 10}%`;
  const needWords = `need ${fmt(h.need)} in flight${rateText}`;
  if (h.cap_lower_bound) {
    if (spare >= TIGHT_BELOW) return ['fits', `Cap not reached: at least ${fmt(h.cap)}, so ${needWords} leaves at least ${pct} of it to spare.${extra}`];
    return ['unknown', `Cap not reached (at least ${fmt(h.cap)}): ${needWords} may or may not fit; raise load.max to find the cap.${extra}`];
  }
  if (h.need > h.cap) return ['does_not_fit', `Does not fit: ${needWords} is over the cap of ${fmt(h.cap)} by ${fmt(h.need - h.cap)}.${extra}`];
  if (h.need_p99 !== null && h.need_p99 > h.cap) {
    return ['tight', `Tight: ${needWords} fits the cap of ${fmt(h.cap)}, but at p99 latency the rate needs ${fmt(h.need_p99)}, over the cap.${extra}`];
  }
  if (spare < TIGHT_BELOW) return ['tight', `Tight: ${needWords} leaves ${pct} of the cap of ${fmt(h.cap)} (under ${TIGHT_BELOW * 100}%).${extra}`];
  return ['fits', `Fits: ${needWords} leaves ${fmt(h.cap - h.need)} (${pct}) of the cap of ${fmt(h.cap)}.${extra}`];
}
