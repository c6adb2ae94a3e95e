/**
 * Open-loop arrival schedules (`load.mode: rate`): when each request arrives and for which model, as a pure
 * function of (seed, spec). Every policy of a rehearsal replays the same schedule, so their results differ only
 * by the policy.
 */
import { seededRandom } from '../time/random.js';

/** What a schedule is made from (a subset of the scenario's RateLoad, plus the models' weights). */
export interface ArrivalSpec {
  arrival: 'poisson' | 'constant';
  /** Piecewise-constant rates: arrivals per second (all models together), each for `hold_ms`. */
  stages: readonly { rate: number; hold_ms: number }[];
  /** Models' weights: each arrival goes to model i with probability weights[i] / sum. */
  weights: readonly number[];
}

/** A schedule: arrival k is at `t_us[k]` (µs from the schedule's start, non-decreasing) for model `model[k]`. */
export interface ArrivalSchedule {
  t_us: Float64Array;
  model: Uint16Array;
  /** The schedule's length (end of the last stage), µs. */
  duration_us: number;
}

/**
 * The schedule. Poisson: exponential gaps at each stage's rate (memoryless, so a stage boundary simply restarts
 * the draw at the new rate). Constant: one arrival every 1/rate seconds from each stage's start. Times are whole
 * microseconds. Models are drawn from an independent seeded stream, so the times do not depend on the mix.
 */
export function arrivalSchedule(seed: number, spec: ArrivalSpec): ArrivalSchedule {
  const root = seededRandom(seed);
  const gaps = root.fork('arrivals');
  const pick = root.fork('arrival-models');
  const times: number[] = [];
  let stageStart = 0;
  for (const st of spec.stages) {
    const end = stageStart + st.hold_ms * 1000;
    const meanGapUs = 1e6 / st.rate;
    if (spec.arrival === 'constant') {
      for (let k = 0; ; k++) {
        const t = Math.round(stageStart + k * meanGapUs);
        if (t >= end) break;
        times.push(t);
      }
    } else {
      let t = stageStart;
      for (;;) {
        // 1 - u is in (0, 1], so the log is finite.
        t += -Math.log(1 - gaps.next()) * meanGapUs;
        if (t >= end) break;
        times.push(Math.round(t));
      }
    }
    stageStart = end;
  }
  const t_us = Float64Array.from(times);
  const model = new Uint16Array(times.length);
  const total = spec.weights.reduce((a, w) => a + w, 0);
  if (spec.weights.length > 1 && total > 0) {
    for (let k = 0; k < times.length; k++) {
      let u = pick.next() * total;
      let i = 0;
      while (i < spec.weights.length - 1 && u >= (spec.weights[i] as number)) {
        u -= spec.weights[i] as number;
        i++;
      }
      model[k] = i;
    }
  }
  return { t_us, model, duration_us: stageStart };
}
