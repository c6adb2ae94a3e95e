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
import { makePromptFactory } from '../protocol/prompt.js';
import { addTokens, emptyTokens } from '../measure/recorder.js';
import { userIdFor } from './user-id.js';
import { priceOf, BudgetGuard, type BudgetState } from './budget.js';
import { Backoff } from './backoff.js';
import { FatalWatch } from './fatal.js';
import { DEFAULTS } from '../scenario/normalise.js';
import type { WarmStart } from '../plan/warm.js';
import { cheapShape, isCheap } from './cheap.js';
import { startClientSampler } from './client-sampler.js';
import type { HostCpuReader } from './host-cpu.js';
import type { ChatParams } from '../protocol/dialect.js';
import { drainMs, rampModel, searchModel, type Shape } from './levels.js';

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
  /** Reads the host's CPU counters for the steal figure (default /proc/stat; tests give their own). */
  hostCpu?: HostCpuReader;
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

  // The chat fields of each request shape: the cheap probe's and its one-token calibration are fixed; the
  // workload's take a prompt per request.
  const calibrate = cheap ? { ...cheap, max_tokens: 1 } : null;
  const workload = (id: number) => {
    const p = prompts(id);
    const r = s.request;
    return { system: p.system, prompt: p.prompt, max_tokens: r.max_tokens, stream: r.stream, thinking: r.thinking, reasoning_effort: r.reasoning_effort, temperature: r.temperature };
  };
  const requestFactory = (spec: ModelSpec): RequestFactory => (id, step, target, inflightAtSend) => {
    const keyIndex = id % Math.max(1, deps.keys.length);
    const shape = shapes.get(spec.name);
    if (shape === 'calibrate') calibrationIds.add(id);
    const chat: Omit<ChatParams, 'model' | 'user_id'> = cheap && shape !== 'full' ? (shape === 'calibrate' ? (calibrate as typeof cheap) : cheap) : workload(id);
    // Every field listed, the driver's two included (it sets them at the send): one object of one shape, held
    // until the answer ends, with no property store added to it on the way.
    return {
      id,
      model: spec.name,
      step,
      target_inflight: target,
      inflight_at_send: inflightAtSend,
      key_index: keyIndex,
      apiKey: deps.keys[keyIndex] ?? '',
      user_id: userIdFor(s.request.user_id, id),
      system: chat.system,
      prompt: chat.prompt,
      max_tokens: chat.max_tokens,
      stream: chat.stream,
      thinking: chat.thinking,
      reasoning_effort: chat.reasoning_effort,
      temperature: chat.temperature,
      intended_us: 0,
      deadline_us: 0,
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
  const sampler = startClientSampler(deps.prober, () => runs.map((r) => r.driver.current), deps.clientLagLimitMs, deps.hostCpu);
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
      const walk = async (r: ModelRun): Promise<void> => {
        const sig = AbortSignal.any([internal.signal, r.ctl.signal]);
        setMaxListeners(0, sig);
        await (s.load.mode === 'search' ? searchModel(s, r, deps, sig, { shapes, promptUsage }, sampler) : rampModel(s, r, deps, sig, sampler));
        // A model ended by a fatal answer is cut at once: its further requests would only repeat the answer.
        if (r.fatal) await r.driver.stop(0, 'stopped');
      };
      // Cheap probes search one model after the other: a level costs the output its first requests stream while
      // the last are still being launched, and a launch that shares the client with another model's is slower.
      if (cheap) for (const r of runs) await walk(r);
      else await Promise.all(runs.map(walk));
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
