/**
 * How one model walks its levels inside a run (runner.ts): the adaptive cap search (with cheap probes' calibration
 * and `measure_at`), and a ramp's steps, plus the stop rules both share. Each function drives the model's
 * ModelDriver and returns when the model is done.
 */
import type { Scenario } from '../scenario/types.js';
import type { LevelResult } from '../plan/search.js';
import { rampSteps } from '../plan/ramp.js';
import { DOCUMENTED_CAPS, levelHeld } from '../measure/cap.js';
import { DEFAULTS } from '../scenario/normalise.js';
import { nextWarmStep } from '../plan/warm.js';
import { CHEAP_SETTLE_MS, cheapSearchConfig } from '../plan/cheap.js';
import type { ClientSampler } from './client-sampler.js';
import type { ModelRun, RunDeps } from './runner.js';

/** load.drain, ms (scenarios built by hand may lack it). */
export function drainMs(s: Scenario): number {
  return s.load.drain_ms ?? DEFAULTS.drain_ms;
}

/** The adaptive search for one model: hold each level only until it is decided. */
export async function searchModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, cheap: CheapState, sampler: ClientSampler): Promise<void> {
  let max = r.spec.max ?? s.load.max;
  const documented = DOCUMENTED_CAPS[r.spec.name];
  if (!deps.mock && s.safety_margin !== undefined && documented !== undefined) {
    max = Math.min(max, Math.floor(documented * (1 - s.safety_margin)));
  }
  const cfg = { start: r.spec.inflight ?? s.load.start, max, precision: s.load.precision, ...cheapSearchConfig(s) };
  const holdUs = s.load.hold_ms * 1000;
  // stop.max_429_rate in search mode: the 429 share (of the requests sent in the level) above which the level
  // counts as over the cap; unset, the first 429 decides.
  const over = () => r.driver.limitedThisStep > (s.stop.max_429_rate ?? 0) * Math.max(1, r.driver.sentThisStep);
  const isCheapRun = cheap.shapes.get(r.spec.name) === 'cheap';
  if (isCheapRun) await calibrate(s, r, deps, signal, holdUs, cheap);
  while (!signal.aborted) {
    const d = nextWarmStep(r.levels, cfg, deps.warm?.[r.spec.name]);
    if (d.done) {
      r.unclear = d.status === 'unclear';
      r.ended = d.why;
      if (s.measure_at?.length && d.status === 'found' && d.low !== null) await measureAt(s, r, deps, signal, d.low, cheap);
      r.decided = { status: d.status, cap: d.low };
      // This model is done: drain and cut its requests now, not when the slowest model finishes.
      await r.driver.stop(drainMs(s) * 1000, 'search_done', signal);
      return;
    }
    await warmFor(r, d.level, deps);
    const rec = r.driver.startStep(d.level, true);
    void sampler.tick(rec);
    const deadline = deps.clock.nowUs() + holdUs;
    // Decide the level: a 429 (over), the server seen holding the whole level (clean), or the hold ran out.
    let errorStop: string | null = null;
    while (!signal.aborted) {
      // stop.max_error_rate, live: enough finished requests of this level and too many of them errors.
      errorStop = errorRuleFired(s, rec.counts(), SEARCH_ERROR_MIN);
      if (errorStop) break;
      if (over()) {
        rec.endedBy = 'decided_429';
        break;
      }
      // Fresh evidence only: a request sent at this level admitted while the server held the whole level.
      if (rec.freshHeldAt !== null) {
        rec.endedBy = 'decided_held';
        break;
      }
      if (deps.clock.nowUs() >= deadline) {
        rec.endedBy = 'hold';
        break;
      }
      await r.driver.waitForChange(deadline, signal);
    }
    if (signal.aborted) {
      rec.endedBy = 'interrupted';
      return;
    }
    // Admissions still waiting to count (ModelDriver.freshCandidate) are part of the level's evidence.
    await r.driver.freshSettled();
    errorStop ??= errorRuleFired(s, rec.counts(), 1);
    if (errorStop) {
      // Errors, not the cap, shape this level: any cap read from it would be wrong. End the search as unclear.
      rec.endedBy = 'stop_rule';
      r.unclear = true;
      r.unclearWhy = `search stopped at ${d.level} in flight: ${errorStop}`;
      r.ended = r.unclearWhy;
      await r.driver.stop(0, 'stopped', signal);
      return;
    }
    const drew429 = over();
    // dsprobe's own health up to the decision: a level where the client was the bottleneck is no evidence.
    await sampler.tick(rec);
    const cv = rec.decideClient();
    const result: LevelResult = {
      level: d.level,
      drew429,
      // Held by fresh admissions, or (no admission signal: non-streaming answers) kept in flight by the client for
      // the whole hold with new requests sent and no 429: the same rule as estimateCap's, so both agree.
      confirmed: levelHeld({
        peak_admitted: rec.peakAdmittedCount,
        target_inflight: d.level,
        achieved_inflight: rec.achievedAt(deps.clock.nowUs()),
        rate_limited: drew429 ? 1 : 0,
        fresh_held: rec.freshHeldAt !== null,
        fresh_peak_admitted: rec.freshPeakAdmitted,
        sent: rec.sentRequests,
      }),
      peakAdmitted: rec.freshPeakAdmitted,
      recheck: d.recheck,
      t_us: deps.clock.nowUs(),
      ...(cv.clientBound ? { clientBound: true, clientLoopP99Ms: cv.loopP99Ms, clientSendLagP99Ms: cv.sendLagP99Ms } : {}),
    };
    r.levels.push(result);
    deps.onLevel?.(r.spec.name, result);
    // Cheap probes: the level is decided, so nothing more of it is worth paying for.
    if (isCheapRun) {
      await r.driver.cutAll('level_decided');
      // The pause also outlasts every 429 backoff of the level: its slots are ready when the next level starts, so
      // that level is launched at once (nothing is open meanwhile, so the wait costs time, not tokens).
      const settleUs = deps.clock.nowUs() + (s.probe?.settle_ms ?? CHEAP_SETTLE_MS) * 1000;
      await deps.clock.sleepUntil(Math.max(settleUs, r.driver.backoffEndsUs), signal);
    }
  }
}

/** Which request shape a model's new requests take. */
export type Shape = 'full' | 'cheap' | 'calibrate';

/** Cheap-probe state shared between the runner and a model's search. */
export interface CheapState {
  shapes: Map<string, Shape>;
  promptUsage: Map<string, { prompt: number; hit: number } | null>;
}

/**
 * One one-token request of the cheap shape before the search, so the server's own prompt count (and cache hits)
 * prices every cut request exactly instead of a characters-per-token guess. Recorded as a level-1 step
 * (`ended_by: calibration`).
 */
async function calibrate(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, holdUs: number, cheap: CheapState): Promise<void> {
  const model = r.spec.name;
  cheap.shapes.set(model, 'calibrate');
  const rec = r.driver.startStep(1);
  rec.endedBy = 'calibration';
  const deadline = deps.clock.nowUs() + holdUs;
  while (!signal.aborted && !cheap.promptUsage.has(model) && deps.clock.nowUs() < deadline) {
    await r.driver.waitForChange(deadline, signal);
  }
  cheap.shapes.set(model, 'cheap');
  await r.driver.cutAll('calibrated');
  await deps.clock.sleepUntil(deps.clock.nowUs() + (s.probe?.settle_ms ?? CHEAP_SETTLE_MS) * 1000, signal);
}

/**
 * measure_at: after the search found `low`, hold each fraction of it for load.hold with the scenario's real
 * request shape (steps marked `ended_by: measure`, so the report prices them apart from the search).
 */
async function measureAt(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, low: number, cheap: CheapState): Promise<void> {
  await r.driver.cutAll('search_done');
  cheap.shapes.set(r.spec.name, 'full');
  for (const f of s.measure_at ?? []) {
    if (signal.aborted) return;
    const rec = r.driver.startStep(Math.max(1, Math.floor(f * low)));
    rec.endedBy = 'measure';
    await deps.clock.sleepUntil(deps.clock.nowUs() + s.load.hold_ms * 1000, signal);
    if (signal.aborted) rec.endedBy = 'interrupted';
  }
}

/** Opens the connections a level adds before its clock starts (no connect storm inside its TTFT). */
async function warmFor(r: ModelRun, level: number, deps: RunDeps): Promise<void> {
  const more = level - r.driver.inflight;
  if (more <= 0 || !deps.prober.warm) return;
  r.driver.pause();
  await deps.prober.warm(more);
}

/** Fixed steps: hold each for its full time; stop early when a stop rule fires. */
export async function rampModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, sampler: ClientSampler): Promise<void> {
  const { clock } = deps;
  for (const step of rampSteps(s)) {
    const mine = step.find((x) => x.model === r.spec.name);
    if (!mine) continue;
    if (signal.aborted) return;
    await warmFor(r, mine.inflight, deps);
    const rec = r.driver.startStep(mine.inflight);
    void sampler.tick(rec);
    await clock.sleepUntil(clock.nowUs() + mine.hold_ms * 1000, signal);
    if (signal.aborted) {
      rec.endedBy = 'interrupted';
      return;
    }
    const live = rec.counts();
    const result: LevelResult = { level: mine.inflight, drew429: live.rate_limited > 0, confirmed: rec.peakAdmittedCount >= mine.inflight, peakAdmitted: rec.peakAdmittedCount };
    r.levels.push(result);
    // abort_on_fail thresholds are checked here too, not only in search mode.
    deps.onLevel?.(r.spec.name, result);
    const why = stopRuleFired(s, live);
    if (why) {
      rec.endedBy = 'stop_rule';
      r.ended = why;
      await r.driver.stop(0, 'stopped', signal);
      return;
    }
  }
  r.ended = 'all steps held';
  await r.driver.stop(drainMs(s) * 1000, 'drain_timeout', signal);
}

/** Finished requests a search level needs before stop.max_error_rate is judged while the level is still open. */
const SEARCH_ERROR_MIN = 10;

/** stop.max_error_rate over a level's live counts (once it has `min` finished requests): the reason, or null. */
function errorRuleFired(s: Scenario, live: { requests: number; errors: number }, min: number): string | null {
  if (s.stop.max_error_rate === undefined || live.requests < min) return null;
  const rate = live.errors / live.requests;
  if (rate <= s.stop.max_error_rate) return null;
  return `error rate ${(rate * 100).toFixed(1)}% (${live.errors} of ${live.requests}) > stop.max_error_rate ${(s.stop.max_error_rate * 100).toFixed(1)}%`;
}

/** The ramp's stop rules over one step's live counts: the reason it fired, or null. */
function stopRuleFired(s: Scenario, live: { requests: number; rate_limited: number; errors: number }): string | null {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const rate = live.requests ? live.rate_limited / live.requests : 0;
  if (s.stop.max_429_rate !== undefined && rate > s.stop.max_429_rate) {
    return `429 rate ${pct(rate)} > stop.max_429_rate ${pct(s.stop.max_429_rate)}`;
  }
  const errRate = live.requests ? live.errors / live.requests : 0;
  if (s.stop.max_error_rate !== undefined && errRate > s.stop.max_error_rate) {
    return `error rate ${pct(errRate)} > stop.max_error_rate ${pct(s.stop.max_error_rate)}`;
  }
  return null;
}
