/**
 * Ramp plans: scenario -> the fixed steps of a ramp, per model. Pure (ARCHITECTURE: plan before you run).
 *
 * A ramp step has one total in-flight level, split over the models by weight (largest-remainder rounding,
 * so the parts add up to the level). A model with its own `inflight` holds that fixed number at every step
 * instead, outside the split; a model's `max` caps its share. Every model in the mix gets at least 1 in
 * flight, so each step measures every model.
 *
 * In search mode the steps depend on what the server answers (plan/search.ts); rampSteps then returns only
 * the first step: every model at its start level.
 */
import type { ModelSpec, Scenario } from '../scenario/types.js';

/** One model's target during one step. */
export interface RampTarget {
  model: string;
  inflight: number;
  hold_ms: number;
}

/** The total in-flight levels of a ramp and how long each is held, ms. */
export function rampLevels(s: Pick<Scenario, 'load'>): { level: number; hold_ms: number }[] {
  const l = s.load;
  if (l.stages?.length) return l.stages.map((st) => ({ level: st.inflight, hold_ms: st.hold_ms }));
  const step = Math.max(1, l.step ?? l.start);
  const out: { level: number; hold_ms: number }[] = [];
  for (let v = l.start; v <= l.max; v += step) out.push({ level: v, hold_ms: l.hold_ms });
  // End on the max itself, so the ramp reaches what the user asked for.
  if (out.length === 0 || out[out.length - 1]!.level < l.max) out.push({ level: l.max, hold_ms: l.hold_ms });
  return out;
}

/**
 * Splits `total` over models in proportion to their weights, largest remainder first; the parts sum to
 * `total` (before the at-least-1 and per-model max rules).
 */
export function splitByWeight(total: number, models: readonly Pick<ModelSpec, 'name' | 'weight'>[]): Map<string, number> {
  const out = new Map<string, number>();
  const sum = models.reduce((n, m) => n + m.weight, 0);
  if (models.length === 0 || sum <= 0) return out;
  const exact = models.map((m) => (total * m.weight) / sum);
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  // Ties go to the earlier model (scenario order), so the split is stable.
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]!++;
    left--;
  }
  models.forEach((m, i) => out.set(m.name, floors[i]!));
  return out;
}

/** Per step, per model: the in-flight target and hold. Pure. */
export function rampSteps(s: Scenario): RampTarget[][] {
  if (s.load.mode === 'search') {
    return [
      s.models.map((m) => ({
        model: m.name,
        inflight: Math.min(m.inflight ?? s.load.start, m.max ?? s.load.max),
        hold_ms: s.load.hold_ms,
      })),
    ];
  }
  const weighted = s.models.filter((m) => m.inflight === undefined);
  return rampLevels(s).map(({ level, hold_ms }) => {
    const split = splitByWeight(level, weighted);
    return s.models.map((m) => {
      const share = m.inflight ?? split.get(m.name) ?? 0;
      const inflight = Math.max(1, Math.min(share, m.max ?? Infinity));
      return { model: m.name, inflight, hold_ms };
    });
  });
}
