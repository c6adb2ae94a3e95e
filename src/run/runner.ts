/**
 * Runs a scenario: one ModelDriver per model, all models at once; each model walks its own levels (a ramp's
 * steps, or the adaptive cap search). Never touches `process`: the CLI hands in the clock, the prober, the keys,
 * the abort signal and the sample sink.
 */
import type { Sample, TimelinePoint, TokenTotals } from '../types.js';
import type { Scenario, ModelSpec } from '../scenario/types.js';
import type { Clock } from '../time/clock.js';
import type { Random } from '../time/random.js';
import type { Prober } from '../transport/prober.js';
import { ModelDriver } from './driver.js';
import { nextSearchStep, type LevelResult } from '../plan/search.js';
import { rampSteps } from '../plan/ramp.js';
import { makePromptFactory } from '../protocol/prompt.js';
import { addTokens, emptyTokens } from '../measure/recorder.js';
import { DOCUMENTED_CAPS, levelHeld } from '../measure/cap.js';
import { userIdFor } from './user-id.js';
import { priceOf } from './budget.js';

/** This many requests failing to connect, with nothing else seen first, means the target is unreachable. */
export const UNREACHABLE_AFTER = 10;

export interface RunDeps {
  clock: Clock;
  random: Random;
  prober: Prober;
  /** Resolved API keys (secrets: used only in request headers). One is fine. */
  keys: string[];
  /** True when the target is the built-in mock (safety margins apply only to real targets). */
  mock: boolean;
  signal?: AbortSignal;
  onSample?: (s: Sample) => void;
  /** Called when a model starts a step (samples.ndjson records it so rebuilds recover every level). */
  onStep?: (model: string, index: number, target: number, atUs: number) => void;
  /** Called after each level is decided, with the live state (thresholds with abort_on_fail hook in here). */
  onLevel?: (model: string, level: LevelResult) => void;
  /** Timeline sampling interval, µs (default 500 ms). */
  timelineEveryUs?: number;
}

export interface ModelRun {
  spec: ModelSpec;
  driver: ModelDriver;
  levels: LevelResult[];
  /** The search ended as unclear (contradicting re-checks). */
  unclear: boolean;
  /** Why this model's run ended. */
  ended: string;
}

export interface RunResult {
  models: ModelRun[];
  timeline: TimelinePoint[];
  status: 'completed' | 'interrupted' | 'budget_exceeded' | 'aborted_by_threshold' | 'failed';
  status_reason: string | null;
  start_us: number;
  end_us: number;
  tokens: TokenTotals;
  usd: number;
  requests: number;
}

/** A live view of a run, for progress displays. */
export interface RunView {
  elapsedUs(): number;
  /** The run clock's now, µs (the time base of every Sample). */
  nowUs(): number;
  models(): ModelRun[];
  usd(): number;
}

/** Stops the whole run from the outside (budget, failing threshold). */
export interface RunControl {
  stop(status: RunResult['status'], reason: string): void;
}

/**
 * Runs the scenario to completion (or until stopped) and returns the raw result; buildReport() turns it into
 * a Report. `view` is filled in synchronously so a progress display can poll it.
 */
export async function runScenario(
  s: Scenario,
  deps: RunDeps,
  view?: (v: RunView, control: RunControl) => void,
): Promise<RunResult> {
  const { clock } = deps;
  const startUs = clock.nowUs();
  const internal = new AbortController();
  const onOuterAbort = () => stopRun('interrupted', 'interrupted by signal');
  deps.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let status: RunResult['status'] = 'completed';
  let statusReason: string | null = null;
  function stopRun(st: RunResult['status'], why: string) {
    if (status === 'completed') {
      status = st;
      statusReason = why;
    }
    internal.abort();
  }
  if (deps.signal?.aborted) stopRun('interrupted', 'interrupted by signal');

  const tokens = emptyTokens();
  let usd = 0;
  let requests = 0;
  let nextId = 0;
  const prompts = makePromptFactory({
    prompt_tokens: s.request.prompt_tokens,
    system_prefix_tokens: s.request.system_prefix_tokens,
    random: deps.random.fork('prompt'),
  });
  const timeoutUs = s.request.timeout_ms * 1000;

  let networkOnly = true;
  const onSample = (smp: Sample) => {
    requests++;
    // Nothing but connection failures from the very start: the target is unreachable, stop at once (exit 3).
    if (smp.outcome !== 'network' && smp.outcome !== 'aborted') networkOnly = false;
    if (smp.outcome === 'network' && /EMFILE|ENFILE/.test(smp.error ?? '')) {
      stopRun('failed', 'ran out of file descriptors: raise the limit (`ulimit -n 65536`, or LimitNOFILE= in a systemd unit) or lower the in-flight target');
    }
    if (networkOnly && requests >= UNREACHABLE_AFTER) {
      stopRun('failed', `target unreachable: the first ${requests} requests all failed to connect (${smp.error ?? smp.detail ?? 'network'})`);
    }
    addTokens(tokens, smp);
    usd += priceOf(smp, s.pricing);
    deps.onSample?.(smp);
    const b = s.budget;
    if (b.max_usd !== undefined && usd > b.max_usd) stopRun('budget_exceeded', `spent $${usd.toFixed(4)} > budget $${b.max_usd}`);
    const total = tokens.prompt + tokens.completion;
    if (b.max_tokens !== undefined && total > b.max_tokens) stopRun('budget_exceeded', `used ${total} tokens > budget ${b.max_tokens}`);
  };

  const runs: ModelRun[] = s.models.map((spec) => {
    const driver = new ModelDriver({
      model: spec.name,
      clock,
      prober: deps.prober,
      timeoutUs,
      nextId: () => nextId++,
      onSample,
      onStep: deps.onStep,
      makeRequest: (id, step, target, inflightAtSend) => {
        const p = prompts(id);
        const keyIndex = id % Math.max(1, deps.keys.length);
        return {
          id,
          model: spec.name,
          step,
          target_inflight: target,
          inflight_at_send: inflightAtSend,
          key_index: keyIndex,
          apiKey: deps.keys[keyIndex] ?? '',
          user_id: userIdFor(s.request.user_id, id),
          system: p.system,
          prompt: p.prompt,
          max_tokens: s.request.max_tokens,
          stream: s.request.stream,
          thinking: s.request.thinking,
          reasoning_effort: s.request.reasoning_effort,
          temperature: s.request.temperature,
        };
      },
    });
    return { spec, driver, levels: [], unclear: false, ended: 'running' };
  });

  const timeline: TimelinePoint[] = [];
  const every = deps.timelineEveryUs ?? 500_000;
  const lastCounts = runs.map(() => ({ completed: 0, limited: 0 }));
  const sampleTimeline = () => {
    const t = clock.nowUs();
    runs.forEach((r, i) => {
      const last = lastCounts[i] as { completed: number; limited: number };
      timeline.push({
        t_ms: Math.round((t - startUs) / 1000),
        model: r.spec.name,
        inflight: r.driver.inflight,
        target: r.driver.currentTarget,
        rate_limited: r.driver.limited - last.limited,
        completed: r.driver.completed - last.completed,
      });
      last.completed = r.driver.completed;
      last.limited = r.driver.limited;
    });
  };
  const ticker = setInterval(sampleTimeline, Math.max(10, Math.round(every / 1000)));
  ticker.unref?.();
  view?.(
    { elapsedUs: () => clock.nowUs() - startUs, nowUs: () => clock.nowUs(), models: () => runs, usd: () => usd },
    { stop: stopRun },
  );

  try {
    await Promise.all(runs.map((r) => (s.load.mode === 'search' ? searchModel(s, r, deps, internal.signal) : rampModel(s, r, deps, internal.signal))));
  } finally {
    clearInterval(ticker);
    // Let what is open finish briefly (its latency is worth having), then cut it: a probe leaves nothing running.
    const drainUs = status === 'completed' ? s.load.hold_ms * 1000 : 0;
    const reason = status === 'completed' ? 'drain_timeout' : status === 'interrupted' ? 'interrupted' : 'stopped';
    await Promise.all(runs.map((r) => r.driver.stop(drainUs, reason, internal.signal)));
    sampleTimeline();
    deps.signal?.removeEventListener('abort', onOuterAbort);
  }
  return { models: runs, timeline, status, status_reason: statusReason, start_us: startUs, end_us: clock.nowUs(), tokens, usd, requests };
}

/** The adaptive search for one model: hold each level only until it is decided. */
async function searchModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal): Promise<void> {
  let max = r.spec.max ?? s.load.max;
  const documented = DOCUMENTED_CAPS[r.spec.name];
  if (!deps.mock && s.safety_margin !== undefined && documented !== undefined) {
    max = Math.min(max, Math.floor(documented * (1 - s.safety_margin)));
  }
  const cfg = { start: r.spec.inflight ?? s.load.start, max, growth: s.load.growth, precision: s.load.precision, recheck: s.load.recheck };
  const holdUs = s.load.hold_ms * 1000;
  while (!signal.aborted) {
    const d = nextSearchStep(r.levels, cfg);
    if (d.done) {
      r.unclear = d.status === 'unclear';
      r.ended = d.why;
      // This model is done: drain and cut its requests now, not when the slowest model finishes.
      await r.driver.stop(holdUs, 'search_done', signal);
      return;
    }
    const rec = r.driver.startStep(d.level, true);
    const deadline = deps.clock.nowUs() + holdUs;
    // Decide the level: a 429 (over), the server seen holding the whole level (clean), or the hold ran out.
    while (!signal.aborted) {
      if (r.driver.limitedThisStep > 0) {
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
    const drew429 = r.driver.limitedThisStep > 0;
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
    };
    r.levels.push(result);
    deps.onLevel?.(r.spec.name, result);
  }
}

/** Fixed steps: hold each for its full time; stop early when a stop rule fires. */
async function rampModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal): Promise<void> {
  const { clock } = deps;
  for (const step of rampSteps(s)) {
    const mine = step.find((x) => x.model === r.spec.name);
    if (!mine) continue;
    if (signal.aborted) return;
    const rec = r.driver.startStep(mine.inflight);
    await clock.sleepUntil(clock.nowUs() + mine.hold_ms * 1000, signal);
    if (signal.aborted) {
      rec.endedBy = 'interrupted';
      return;
    }
    const live = rec.live();
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
  await r.driver.stop(s.load.hold_ms * 1000, 'drain_timeout', signal);
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
