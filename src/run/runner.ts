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
import { NO_CONNECTION_DETAILS } from '../transport/classify.js';
import { ModelDriver, type RequestFactory } from './driver.js';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import type { Waiter } from '../time/pace.js';
import type { LevelResult } from '../plan/search.js';
import { rampSteps } from '../plan/ramp.js';
import { makePromptFactory } from '../protocol/prompt.js';
import { addTokens, emptyTokens } from '../measure/recorder.js';
import { DOCUMENTED_CAPS, levelHeld } from '../measure/cap.js';
import { userIdFor } from './user-id.js';
import { priceOf, BudgetGuard, type BudgetState } from './budget.js';
import { Backoff } from './backoff.js';
import { FatalWatch } from './fatal.js';
import { DEFAULTS } from '../scenario/normalise.js';
import { nextWarmStep, type WarmStart } from '../plan/warm.js';
import { cheapShape, isCheap } from './cheap.js';
import { CHEAP_SETTLE_MS, cheapSearchConfig } from '../plan/cheap.js';
import { startClientSampler, type ClientSampler } from './client-sampler.js';

/**
 * This many requests failing to connect (no connection made: NO_CONNECTION_DETAILS), with nothing else seen
 * first, means the target is unreachable. A reset or a cut after a connection is a mid-response outcome.
 */
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
  /** Rate mode: how to wait for the next arrival (default: precise pacing on the clock; tests pass clock.sleepUntil). */
  wait?: Waiter;
  /** Per model, what an earlier search found: the search checks it and its neighbour first (`dsprobe watch`). */
  warm?: Readonly<Record<string, WarmStart>>;
  /**
   * The loop-delay / send-lag limit (ms) over which a level is client-bound (default CLIENT_LAG_LIMIT_MS). Only for
   * tests whose server runs on dsprobe's own thread (its work is not dsprobe's lag), or that force a verdict.
   */
  clientLagLimitMs?: number;
}

export interface ModelRun {
  spec: ModelSpec;
  driver: ModelDriver;
  levels: LevelResult[];
  /** The search ended as unclear (contradicting re-checks). */
  unclear: boolean;
  /** Why this model's run ended. */
  ended: string;
  /** Set once this model's search decided (the progress display shows it while the model drains). */
  decided?: { status: 'found' | 'not_reached' | 'unclear'; cap: number | null };
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
  /** Rate mode: every policy's run over the arrival schedule. */
  rehearsal?: OpenLoopResult;
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
  // Cheap probes: per model, which shape new requests take (the search's cheap one, a one-token calibration, or
  // the scenario's own for measure_at levels), and the prompt usage the server reported for the cheap shape.
  const cheap = isCheap(s) ? cheapShape(s, deps.random) : null;
  const shapes = new Map<string, Shape>(s.models.map((m) => [m.name, cheap ? 'cheap' : 'full']));
  const calibrationIds = new Set<number>();
  const promptUsage = new Map<string, { prompt: number; hit: number } | null>();

  const guard = new BudgetGuard(s.budget, s.pricing);
  const fatal = new FatalWatch(deps.keyEnv ?? s.target.api_key_env, deps.keys);
  let networkOnly = true;
  const onSample = (smp: Sample) => {
    requests++;
    // Nothing but connection failures from the very start: the target is unreachable, stop at once (exit 3).
    if (smp.outcome !== 'aborted' && (smp.outcome !== 'network' || !NO_CONNECTION_DETAILS.has(smp.detail ?? ''))) networkOnly = false;
    if (smp.outcome === 'network' && /EMFILE|ENFILE/.test(smp.error ?? '')) {
      stopRun('failed', 'ran out of file descriptors: raise the limit (`ulimit -n 65536`, or LimitNOFILE= in a systemd unit) or lower the in-flight target');
    }
    if (networkOnly && requests >= UNREACHABLE_AFTER) {
      stopRun('failed', `target unreachable: the first ${requests} requests all failed to connect (${smp.error ?? smp.detail ?? 'network'})`);
    }
    if (calibrationIds.delete(smp.id)) {
      const u = smp.usage && !smp.usage_estimated ? smp.usage : null;
      promptUsage.set(smp.model, u ? { prompt: u.prompt_tokens, hit: u.cache_hit_tokens } : null);
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

  const requestFactory = (spec: ModelSpec): RequestFactory => (id, step, target, inflightAtSend) => {
        const keyIndex = id % Math.max(1, deps.keys.length);
        const shape = shapes.get(spec.name);
        if (cheap && shape !== 'full') {
          if (shape === 'calibrate') calibrationIds.add(id);
          return {
            id,
            model: spec.name,
            step,
            target_inflight: target,
            inflight_at_send: inflightAtSend,
            key_index: keyIndex,
            apiKey: deps.keys[keyIndex] ?? '',
            user_id: userIdFor(s.request.user_id, id),
            ...cheap,
            max_tokens: shape === 'calibrate' ? 1 : cheap.max_tokens,
          };
        }
        const p = prompts(id);
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
      promptUsage: () => promptUsage.get(spec.name) ?? null,
      makeRequest: requestFactory(spec),
      backoff: new Backoff(backoffSpec, deps.random.fork(`backoff:${spec.name}`)),
      firstProbes: FIRST_PROBES,
      firstProbeWaitUs: FIRST_PROBE_WAIT_MS * 1000,
      ...(mayLaunch ? { mayLaunch } : {}),
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
  const sampler = startClientSampler(deps.prober, () => runs.map((r) => r.driver.current), deps.clientLagLimitMs);
  const ticker = setInterval(sampleTimeline, Math.max(10, Math.round(every / 1000)));
  ticker.unref?.();
  view?.(
    { elapsedUs: () => clock.nowUs() - startUs, nowUs: () => clock.nowUs(), models: () => runs, usd: () => usd },
    { stop: stopRun },
  );

  let rehearsal: OpenLoopResult | undefined;
  try {
    if (s.load.mode === 'rate') {
      // Open loop: the drivers only hold each policy's attempt statistics (one step per policy).
      const stepsOf = (model: string) => runs.find((r) => r.spec.name === model)!.driver.steps;
      rehearsal = await runOpenLoop(s, s.models, { clock, random: deps.random, prober: deps.prober, makeRequest: requestFactory, nextId: () => nextId++, timeoutUs, onSample, onStep: deps.onStep, stepsOf, wait: deps.wait }, internal.signal);
      for (const r of runs) r.ended = status === 'completed' ? 'every policy ran the schedule' : 'stopped';
    } else {
      await Promise.all(
        runs.map(async (r) => {
          const sig = AbortSignal.any([internal.signal, r.ctl.signal]);
          setMaxListeners(0, sig);
          await (s.load.mode === 'search' ? searchModel(s, r, deps, sig, { shapes, promptUsage }, sampler) : rampModel(s, r, deps, sig, sampler));
          // A model ended by a fatal answer is cut at once: its further requests would only repeat the answer.
          if (r.fatal) await r.driver.stop(0, 'stopped');
        }),
      );
    }
  } finally {
    clearInterval(ticker);
    sampler.stop();
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
  return { models: runs, timeline, status, status_reason: statusReason, start_us: startUs, end_us: clock.nowUs(), tokens, usd, requests, budget: guard.unlimited ? null : guard.state(), ...(rehearsal ? { rehearsal } : {}) };
}

/** load.drain, ms (scenarios built by hand may lack it). */
function drainMs(s: Scenario): number {
  return s.load.drain_ms ?? DEFAULTS.drain_ms;
}

/** The adaptive search for one model: hold each level only until it is decided. */
async function searchModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, cheap: CheapState, sampler: ClientSampler): Promise<void> {
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
      errorStop = errorRuleFired(s, rec.live(), SEARCH_ERROR_MIN);
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
      await deps.clock.sleepUntil(deps.clock.nowUs() + (s.probe?.settle_ms ?? CHEAP_SETTLE_MS) * 1000, signal);
    }
  }
}

/** Which request shape a model's new requests take. */
type Shape = 'full' | 'cheap' | 'calibrate';

/** Cheap-probe state shared between the runner and a model's search. */
interface CheapState {
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
async function rampModel(s: Scenario, r: ModelRun, deps: RunDeps, signal: AbortSignal, sampler: ClientSampler): Promise<void> {
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
