/**
 * Runs a scenario: one ModelDriver per model, all models at once; each model walks its own levels (a ramp's
 * steps, or the adaptive cap search). Never touches `process`: the CLI hands in the clock, the prober, the keys,
 * the abort signal and the sample sink.
 */
import { setMaxListeners } from 'node:events';
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
import { priceOf, BudgetGuard, type BudgetState } from './budget.js';
import { Backoff } from './backoff.js';
import { FatalWatch } from './fatal.js';
import { DEFAULTS } from '../scenario/normalise.js';

/** This many requests failing to connect, with nothing else seen first, means the target is unreachable. */
export const UNREACHABLE_AFTER = 10;
/** Requests a model keeps in flight until its first answer that is not a fatal status (see fatal.ts). */
export const FIRST_PROBES = 3;
/** ... or until they have been open this long without an answer (the server holds them: not a refusal). */
export const FIRST_PROBE_WAIT_MS = 1000;

export interface RunDeps {
  clock: Clock;
  random: Random;
  prober: Prober;
  /** Resolved API keys (secrets: used only in request headers). One is fine. */
  keys: string[];
  /** Names of the env vars holding the keys, by index (named in messages). Default: the scenario's api_key_env. */
  keyEnv?: string[];
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
  /** Why the search ended as unclear when a stop rule or a fatal answer ended it (shown first in the cap's evidence). */
  unclearWhy?: string;
  /** Set when a fatal answer (400/404 to its first requests) ended this model: the message printed. */
  fatal?: string;
  /** Stops this model alone (a fatal answer). */
  ctl: AbortController;
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
  /** The hard budget: set, spent, and still reserved (null when no budget was set). */
  budget?: BudgetState | null;
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

  const guard = new BudgetGuard(s.budget, s.pricing);
  const fatal = new FatalWatch(deps.keyEnv ?? s.target.api_key_env, deps.keys);
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
    guard.settle(smp);
    deps.onSample?.(smp);
    const verdict = fatal.observe(smp);
    if (verdict?.scope === 'run') stopRun('failed', verdict.message);
    else if (verdict) {
      const r = runs.find((x) => x.spec.name === verdict.model);
      if (r && !r.fatal) {
        r.fatal = verdict.message;
        r.ended = verdict.message;
        r.unclear = true;
        r.unclearWhy = verdict.message;
        r.ctl.abort();
        if (runs.every((x) => x.fatal)) stopRun('failed', runs.map((x) => x.fatal).join('; '));
      }
    }
  };
  // The hard budget: a request is sent only when its worst case fits (see BudgetGuard).
  const mayLaunch = guard.unlimited
    ? undefined
    : (req: { id: number; model: string; system: string; prompt: string; max_tokens: number }) => {
        if (guard.reserve(req.id, req.model, req.system.length + req.prompt.length, req.max_tokens)) return true;
        // It waits for open requests to release their reservations; once nothing could ever fit, the run ends.
        if (guard.exhausted) stopRun('budget_exceeded', guard.refused ?? 'budget spent');
        return false;
      };
  const backoffSpec = s.load.on_429 ?? DEFAULTS.backoff;

  const runs: ModelRun[] = s.models.map((spec) => {
    const driver = new ModelDriver({
      model: spec.name,
      clock,
      prober: deps.prober,
      timeoutUs,
      nextId: () => nextId++,
      onSample,
      onStep: deps.onStep,
      backoff: new Backoff(backoffSpec, deps.random.fork(`backoff:${spec.name}`)),
      firstProbes: FIRST_PROBES,
      firstProbeWaitUs: FIRST_PROBE_WAIT_MS * 1000,
      ...(mayLaunch ? { mayLaunch } : {}),
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
    return { spec, driver, levels: [], unclear: false, ended: 'running', ctl: new AbortController() };
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
        backoff_waiting: r.driver.backingOff,
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
    await Promise.all(
      runs.map(async (r) => {
        const sig = AbortSignal.any([internal.signal, r.ctl.signal]);
        setMaxListeners(0, sig);
        await (s.load.mode === 'search' ? searchModel(s, r, deps, sig) : rampModel(s, r, deps, sig));
        // A model ended by a fatal answer is cut at once: its further requests would only repeat the answer.
        if (r.fatal) await r.driver.stop(0, 'stopped');
      }),
    );
  } finally {
    clearInterval(ticker);
    // Let what is open complete (its latency and success are what CI checks), up to load.drain, then cut it:
    // a probe leaves nothing running. Each request's own deadline still ends it sooner.
    const drainUs = status === 'completed' ? drainMs(s) * 1000 : 0;
    const reason = status === 'completed' ? 'drain_timeout' : status === 'interrupted' ? 'interrupted' : 'stopped';
    await Promise.all(runs.map((r) => r.driver.stop(drainUs, reason, internal.signal)));
    sampleTimeline();
    deps.signal?.removeEventListener('abort', onOuterAbort);
  }
  const fatals = runs.filter((r) => r.fatal).map((r) => r.fatal);
  if (fatals.length && status === 'completed') {
    status = 'failed';
    statusReason = fatals.join('; ');
  }
  return { models: runs, timeline, status, status_reason: statusReason, start_us: startUs, end_us: clock.nowUs(), tokens, usd, requests, budget: guard.unlimited ? null : guard.state() };
}

/** load.drain, ms (scenarios built by hand may lack it). */
function drainMs(s: Scenario): number {
  return s.load.drain_ms ?? DEFAULTS.drain_ms;
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
  // stop.max_429_rate in search mode: the 429 share (of the requests sent in the level) above which the level
  // counts as over the cap; unset, the first 429 decides.
  const over = () => r.driver.limitedThisStep > (s.stop.max_429_rate ?? 0) * Math.max(1, r.driver.sentThisStep);
  while (!signal.aborted) {
    const d = nextSearchStep(r.levels, cfg);
    if (d.done) {
      r.unclear = d.status === 'unclear';
      r.ended = d.why;
      // This model is done: drain and cut its requests now, not when the slowest model finishes.
      await r.driver.stop(drainMs(s) * 1000, 'search_done', signal);
      return;
    }
    const rec = r.driver.startStep(d.level);
    const deadline = deps.clock.nowUs() + holdUs;
    // Decide the level: a 429 (over), the server seen holding the whole level (clean), or the hold ran out.
    let errorStop: string | null = null;
    while (!signal.aborted) {
      // stop.max_error_rate, live: enough finished requests of this level and too many of them errors.
      errorStop = errorRuleFired(s, rec.live(), SEARCH_ERROR_MIN);
      if (errorStop) break;
      if (over()) {
        rec.endedBy = 'decided_429';
        break;
      }
      if (r.driver.admitted >= d.level) {
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
    errorStop ??= errorRuleFired(s, rec.live(), 1);
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
    const result: LevelResult = {
      level: d.level,
      drew429,
      // Seen held by the server, or kept in flight by the client for the whole hold without a 429 (the same rule
      // as estimateCap's, so the live search and the report agree).
      confirmed: levelHeld({
        peak_admitted: rec.peakAdmittedCount,
        target_inflight: d.level,
        achieved_inflight: rec.achievedAt(deps.clock.nowUs()),
        rate_limited: drew429 ? 1 : 0,
      }),
      peakAdmitted: rec.peakAdmittedCount,
      recheck: d.recheck,
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
