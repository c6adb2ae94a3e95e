/**
 * Rate mode's executor: requests arrive on the seeded schedule (plan/arrivals.ts), independent of answers, and
 * each goes through the client policy being rehearsed (pool and queue, circuit breaker, retries with backoff)
 * before and between its attempts. Every policy replays the same schedule, in turn.
 *
 * Two views are recorded side by side: every attempt is a Sample folded into the policy's StepRecorder (what the
 * server saw), and every arrival ends as one AppResult folded into an AppRecorder (what the application saw:
 * success, shed or failed, latency from the scheduled arrival).
 */
import { setMaxListeners } from 'node:events';
import type { Sample } from '../types.js';
import type { PolicySpec, RateLoad, Scenario, ModelSpec } from '../scenario/types.js';
import type { Clock } from '../time/clock.js';
import type { Random } from '../time/random.js';
import { preciseWaiter, type Waiter } from '../time/pace.js';
import type { Prober, ProbeRequest } from '../transport/prober.js';
import { StepRecorder } from '../measure/recorder.js';
import { AppRecorder, type AppResult } from '../measure/app-recorder.js';
import { arrivalSchedule, type ArrivalSchedule } from '../plan/arrivals.js';
import { ClientPool } from './policy/pool.js';
import { CircuitBreaker } from './policy/breaker.js';
import { backoffUs, isRetryable, retryAfterUs } from './policy/retry.js';
import { estimateUsage, LAUNCH_BATCH, type RequestFactory } from './driver.js';

/** What the executor needs from the runner. */
export interface OpenLoopDeps {
  clock: Clock;
  random: Random;
  prober: Prober;
  /** Builds one model's request (the runner's factory: prompts, keys, user ids). */
  makeRequest: (model: ModelSpec) => RequestFactory;
  nextId: () => number;
  timeoutUs: number;
  onSample: (s: Sample) => void;
  onStep?: (model: string, index: number, target: number, atUs: number) => void;
  /** Each model's step list: one StepRecorder per policy is pushed onto it (attempt statistics). */
  stepsOf: (model: string) => StepRecorder[];
  /** Precise pacing by default; tests with a manual clock pass clock.sleepUntil. */
  wait?: Waiter;
}

/** One model under one policy. */
export interface PolicyModelRun {
  model: string;
  app: AppRecorder;
  attempts: StepRecorder;
}

/** One policy's run over the schedule. */
export interface PolicyRun {
  policy: PolicySpec;
  start_us: number;
  end_us: number;
  models: PolicyModelRun[];
  /** Every model together. */
  all: AppRecorder;
  breaker: CircuitBreaker | null;
}

/** The whole rehearsal, for the report builder. */
export interface OpenLoopResult {
  /** The scenario's rate block (schedule spec, guard, drain). */
  rate: RateLoad;
  schedule: ArrivalSchedule;
  bucket_us: number;
  policies: PolicyRun[];
}

/** Timeline resolution: about 60 buckets over the schedule, at least 100 ms. */
export function bucketUsFor(durationUs: number): number {
  return Math.max(100_000, Math.ceil(durationUs / 60 / 100_000) * 100_000);
}

/** An attempt's answer that a breaker counts as a failure: a 429 or a server error. */
function breakerFailure(s: Sample): boolean {
  return s.outcome === 'rate_limited' || s.outcome === 'server_error' || (s.status !== undefined && s.status >= 500);
}

/** Runs every policy of the scenario over the same schedule, in turn, until done or `signal` aborts. */
export async function runOpenLoop(s: Scenario, models: readonly ModelSpec[], deps: OpenLoopDeps, signal: AbortSignal): Promise<OpenLoopResult> {
  const rate = s.load.rate;
  if (!rate) throw new Error('rate mode without load.rate');
  const schedule = arrivalSchedule(s.seed, { arrival: rate.arrival, stages: rate.stages, weights: models.map((m) => m.weight) });
  const bucketUs = bucketUsFor(schedule.duration_us);
  const policies: PolicyRun[] = [];
  const list = s.policies?.length ? s.policies : [{ name: 'none' }];
  for (const [index, policy] of list.entries()) {
    if (signal.aborted) break;
    policies.push(await runPolicy(s, models, deps, signal, schedule, bucketUs, policy, index));
  }
  return { rate, schedule, bucket_us: bucketUs, policies };
}

async function runPolicy(
  s: Scenario,
  models: readonly ModelSpec[],
  deps: OpenLoopDeps,
  outer: AbortSignal,
  schedule: ArrivalSchedule,
  bucketUs: number,
  policy: PolicySpec,
  index: number,
): Promise<PolicyRun> {
  const { clock, prober } = deps;
  const rate = s.load.rate!;
  const wait = deps.wait ?? preciseWaiter(clock);
  const startUs = clock.nowUs();
  const target = policy.pool ?? rate.max_inflight;
  const all = new AppRecorder(startUs, bucketUs);
  all.windowEndUs = startUs + schedule.duration_us;
  const per = models.map((m) => {
    const attempts = new StepRecorder(m.name, index, target, startUs, 0);
    attempts.endedBy = `policy ${policy.name}`;
    deps.stepsOf(m.name).push(attempts);
    deps.onStep?.(m.name, index, target, startUs);
    return { spec: m, make: deps.makeRequest(m), app: Object.assign(new AppRecorder(startUs, bucketUs, all), { windowEndUs: all.windowEndUs }), attempts, wire: 0, admitted: 0 };
  });
  const pool = new ClientPool(policy.pool, clock);
  const breaker = policy.breaker ? new CircuitBreaker(policy.breaker) : null;
  const jitter = deps.random.fork(`retry:${policy.name}`);
  // Cut at the end of the drain (or on an outer abort): in-flight attempts, queue waits and backoff sleeps.
  const cut = new AbortController();
  // Every open attempt, queue wait and backoff sleep listens on it: thousands, by design.
  setMaxListeners(0, cut.signal);
  const onOuter = () => cut.abort();
  outer.addEventListener('abort', onOuter, { once: true });
  let wire = 0;
  let open = 0;
  let idle: (() => void) | null = null;

  const gauge = (st: (typeof per)[number], now: number) => st.app.gauge(now, pool.queueLength, wire, breaker ? breaker.state(now) !== 'closed' : false);

  /** One application request, from its arrival to its end, through the policy. Never throws. */
  const request = async (k: number, handledUs: number): Promise<void> => {
    const st = per[schedule.model[k] as number]!;
    const arrivalUs = startUs + (schedule.t_us[k] as number);
    st.app.arrival(arrivalUs, handledUs);
    let attempts = 0;
    let queueWait = 0;
    let backoff = 0;
    let intended = arrivalUs;
    const end = (result: AppResult['result'], extra: Partial<AppResult> = {}): void => {
      st.app.end({ arrival_us: arrivalUs, end_us: clock.nowUs(), result, attempts, queue_wait_us: queueWait, backoff_us: backoff, ...extra });
    };
    for (;;) {
      if (cut.signal.aborted) return end('shed', { shed: 'run_ended' });
      // The client's pool first (a request waits for a slot), then the breaker at send time.
      const q0 = clock.nowUs();
      const deadline = policy.queue_timeout_ms !== undefined ? q0 + policy.queue_timeout_ms * 1000 : null;
      let g = pool.acquire(deadline);
      if (typeof g !== 'string') {
        gauge(st, q0);
        g = await g;
      }
      const granted = clock.nowUs();
      if (g !== 'granted') {
        gauge(st, granted);
        return end('shed', { shed: g === 'timeout' ? 'queue_timeout' : 'run_ended' });
      }
      queueWait += granted - q0;
      if (granted > q0) intended = granted;
      st.app.granted(granted, granted - q0);
      const admission = breaker ? breaker.admit(granted) : 'pass';
      if (admission === 'reject') {
        pool.release();
        return end('shed', { shed: 'breaker_open' });
      }
      if (wire >= rate.max_inflight) {
        pool.release();
        if (admission === 'canary') breaker!.cancelCanary();
        return end('shed', { shed: 'max_inflight' });
      }
      attempts++;
      const sample = await attempt(st, intended, attempts, arrivalUs);
      pool.release();
      const now = clock.nowUs();
      gauge(st, now);
      if (breaker) breaker.record(now, breakerFailure(sample), admission === 'canary');
      if (sample.outcome === 'ok') return end('ok');
      if (cut.signal.aborted && sample.outcome === 'aborted') return end('shed', { shed: 'run_ended' });
      if (!policy.retry || !isRetryable(policy.retry, sample)) return end('failed', { outcome: sample.outcome });
      if (attempts >= policy.retry.max_attempts) return end('shed', { shed: 'retries_exhausted' });
      const w = backoffUs(policy.retry, attempts, jitter, retryAfterUs(sample.retry_after));
      await clock.sleepUntil(now + w, cut.signal);
      backoff += clock.nowUs() - now;
      intended = now + w;
    }
  };

  /** One attempt on the wire: a Sample, counted in this policy's attempt statistics. */
  const attempt = async (st: (typeof per)[number], intendedUs: number, n: number, arrivalUs: number): Promise<Sample> => {
    const id = deps.nextId();
    wire++;
    st.wire++;
    const now = clock.nowUs();
    st.attempts.inflight(now, st.wire);
    st.app.attempt(now, n > 1);
    gauge(st, now);
    const req: ProbeRequest = { ...st.make(id, index, target, st.wire), intended_us: intendedUs, deadline_us: now + deps.timeoutUs };
    // Its length only: the text is let go once the body is built (releasePrompt).
    const promptChars = req.system.length + req.prompt.length;
    let admitted = false;
    const smp = await prober.send(req, cut.signal, {
      onHeaders: (_r, status) => {
        if (status !== 429 && status < 400) {
          admitted = true;
          st.admitted++;
          st.attempts.admitted(st.admitted);
        }
      },
    });
    wire--;
    st.wire--;
    if (admitted) st.admitted--;
    if (!smp.usage && admitted) estimateUsage(smp, promptChars);
    if (cut.signal.aborted && smp.outcome === 'aborted') smp.detail = 'run_ended';
    smp.policy = policy.name;
    smp.arrival_us = arrivalUs;
    smp.attempt = n;
    st.attempts.inflight(clock.nowUs(), st.wire);
    st.attempts.add(smp);
    if (smp.outcome === 'rate_limited') st.app.limited(smp.end_us);
    deps.onSample(smp);
    return smp;
  };

  const launch = (k: number, handledUs: number) => {
    open++;
    void request(k, handledUs).finally(() => {
      if (--open === 0 && idle) idle();
    });
  };

  // Pace the arrivals: wait for the next one, then launch every arrival already due (at most LAUNCH_BATCH in
  // one synchronous slice, so open streams keep being read; a backlog shows as arrival lag, where it belongs).
  const n = schedule.t_us.length;
  let k = 0;
  while (k < n && !cut.signal.aborted) {
    const due = startUs + (schedule.t_us[k] as number);
    if (clock.nowUs() < due) await wait(due, cut.signal);
    let batch = 0;
    const now = clock.nowUs();
    while (k < n && startUs + (schedule.t_us[k] as number) <= now && batch++ < LAUNCH_BATCH) launch(k++, now);
    if (batch > LAUNCH_BATCH) await new Promise<void>((r) => setImmediate(r));
  }
  // The schedule's end, then the drain: what is still open may finish, then everything is cut.
  await clock.sleepUntil(startUs + schedule.duration_us, cut.signal);
  if (open > 0 && !cut.signal.aborted) {
    const drained = new Promise<void>((r) => (idle = r));
    const stopDrain = new AbortController();
    await Promise.race([drained, clock.sleepUntil(clock.nowUs() + rate.drain_ms * 1000, stopDrain.signal)]);
    stopDrain.abort();
  }
  cut.abort();
  pool.abortAll();
  if (open > 0) await new Promise<void>((r) => (idle = r));
  outer.removeEventListener('abort', onOuter);
  const endUs = clock.nowUs();
  for (const st of per) st.attempts.endUs = endUs;
  return { policy, start_us: startUs, end_us: endUs, models: per.map((st) => ({ model: st.spec.name, app: st.app, attempts: st.attempts })), all, breaker };
}
