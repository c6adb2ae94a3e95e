/**
 * Rate mode's keys (`load.mode: rate`, `policy:`, `policies:`): from checked plain values to RateLoad and
 * PolicySpec, defaults filled in, cross-key rules reported with positions. docs/policies.md documents them.
 */
import type { BreakerSpec, LoadSpec, PolicySpec, RateLoad, RateStage, RetrySpec } from './types.js';
import { at, type NormaliseCtx } from './normalise.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Rate mode's defaults, in one place (docs/policies.md lists them). */
export const RATE_DEFAULTS = {
  arrival: 'poisson',
  max_inflight: 10_000,
  drain_ms: 30_000,
  retry_on: [429, 503],
  max_attempts: 3,
  base_ms: 1000,
  factor: 2,
  max_ms: 60_000,
  jitter: 'full',
  honor_retry_after: true,
  window_ms: 60_000,
  open_when: 0.3,
  min_attempts: 20,
  cool_off_ms: 60_000,
  canaries: 2,
} as const;

const PER_UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `120/s` -> 120, `7200/m` -> 120, a number -> itself (per second). Null when it is not a rate. */
export function parseArrivalRate(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/.exec(v);
  if (!m) return null;
  const r = Number(m[1]) / (PER_UNIT_S[m[2]!] as number);
  return r > 0 ? r : null;
}

/** The arrival schedule and guard of `load:` in rate mode. */
export function normaliseRate(l: Raw, ctx: NormaliseCtx): RateLoad {
  for (const k of ['start', 'max', 'step', 'precision', 'growth', 'recheck'] as const) {
    if (l[k] !== undefined) at(ctx, ['load', k], 'does not apply to mode: rate', 'rate mode takes arrival, rate or stages, duration, max_inflight and drain');
  }
  const stages: RateStage[] = [];
  if (Array.isArray(l.stages)) {
    if (l.rate !== undefined) at(ctx, ['load', 'rate'], 'give either rate (with duration) or stages, not both', 'each stage has its own rate and hold');
    if (l.duration !== undefined) at(ctx, ['load', 'duration'], 'does not apply with stages (their holds add up)', 'remove duration, or give `rate` instead of stages');
    (l.stages as Raw[]).forEach((st, i) => {
      if (!st) return;
      if (st.inflight !== undefined) at(ctx, ['load', 'stages', i, 'inflight'], 'does not apply to mode: rate', 'a rate stage is `{ rate: 50/s, hold: 30s }`');
      const rate = parseArrivalRate(st.rate);
      if (st.rate === undefined && !ctx.doc.hasIn(['load', 'stages', i, 'rate'])) {
        at(ctx, ['load', 'stages', i, 'rate'], 'is required in mode: rate', 'add `rate:` for example `{ rate: 50/s, hold: 30s }`');
      }
      const hold = st.hold ?? l.hold;
      if (hold === undefined) at(ctx, ['load', 'stages', i, 'hold'], 'is required in mode: rate', 'e.g. `hold: 30s`');
      else if (hold <= 0) at(ctx, ['load', 'stages', i, 'hold'], 'must be longer than 0');
      if (rate !== null && hold > 0) stages.push({ rate, hold_ms: hold });
    });
  } else {
    const rate = parseArrivalRate(l.rate);
    if (l.rate === undefined && !ctx.doc.hasIn(['load', 'rate'])) at(ctx, ['load', 'rate'], 'is required in mode: rate', 'e.g. `rate: 120/s`, or give stages');
    if (l.duration === undefined && !ctx.doc.hasIn(['load', 'duration'])) at(ctx, ['load', 'duration'], 'is required in mode: rate', 'e.g. `duration: 60s`');
    else if (l.duration !== undefined && l.duration <= 0) at(ctx, ['load', 'duration'], 'must be longer than 0', 'e.g. `duration: 60s`');
    if (rate !== null && l.duration > 0) stages.push({ rate, hold_ms: l.duration });
  }
  const drain = l.drain ?? RATE_DEFAULTS.drain_ms;
  return {
    arrival: l.arrival ?? RATE_DEFAULTS.arrival,
    stages,
    duration_ms: stages.reduce((a, s) => a + s.hold_ms, 0),
    max_inflight: l.max_inflight ?? RATE_DEFAULTS.max_inflight,
    drain_ms: drain,
  };
}

function retry(r: Raw): RetrySpec {
  const b: Raw = r.backoff ?? {};
  return {
    on: r.on ?? [...RATE_DEFAULTS.retry_on],
    max_attempts: r.max_attempts ?? RATE_DEFAULTS.max_attempts,
    base_ms: b.base ?? RATE_DEFAULTS.base_ms,
    factor: b.factor ?? RATE_DEFAULTS.factor,
    max_ms: b.max ?? RATE_DEFAULTS.max_ms,
    jitter: b.jitter ?? RATE_DEFAULTS.jitter,
    honor_retry_after: r.honor_retry_after ?? RATE_DEFAULTS.honor_retry_after,
  };
}

function breaker(b: Raw): BreakerSpec {
  return {
    window_ms: b.window ?? RATE_DEFAULTS.window_ms,
    open_when: b.open_when ?? RATE_DEFAULTS.open_when,
    min_attempts: b.min_attempts ?? RATE_DEFAULTS.min_attempts,
    cool_off_ms: b.cool_off ?? RATE_DEFAULTS.cool_off_ms,
    canaries: b.canaries ?? RATE_DEFAULTS.canaries,
  };
}

function policy(name: string, p: Raw | null | undefined, path: (string | number)[], ctx: NormaliseCtx): PolicySpec {
  const out: PolicySpec = { name };
  if (!p) return out;
  if (p.pool !== undefined) out.pool = p.pool;
  if (p.queue_timeout !== undefined) {
    if (p.pool === undefined) at(ctx, [...path, 'queue_timeout'], 'only applies with a pool (without one nothing waits in the client\'s queue)', 'add `pool: N`, or remove queue_timeout');
    else if (p.queue_timeout <= 0) at(ctx, [...path, 'queue_timeout'], 'must be longer than 0', 'e.g. `queue_timeout: 30s`');
    out.queue_timeout_ms = p.queue_timeout;
  }
  if (p.retry) {
    out.retry = retry(p.retry);
    if (out.retry.max_ms < out.retry.base_ms) at(ctx, [...path, 'retry', 'backoff', 'max'], `must be >= backoff.base (got ${out.retry.max_ms}ms < ${out.retry.base_ms}ms)`);
  }
  if (p.breaker) {
    out.breaker = breaker(p.breaker);
    if (out.breaker.open_when <= 0) at(ctx, [...path, 'breaker', 'open_when'], 'must be above 0 (it would open on the first attempt)', 'e.g. `open_when: 30%`');
    if (out.breaker.window_ms <= 0) at(ctx, [...path, 'breaker', 'window'], 'must be longer than 0', 'e.g. `window: 60s`');
  }
  return out;
}

/**
 * The policies rehearsed, in file order: `policies:` (named), or `policy:` (named `policy`), or one raw policy
 * named `none`. Undefined outside rate mode (where the keys are refused).
 */
export function normalisePolicies(raw: Raw, mode: LoadSpec['mode'], ctx: NormaliseCtx): PolicySpec[] | undefined {
  if (mode !== 'rate') {
    for (const k of ['policy', 'policies'] as const) {
      if (raw[k] !== undefined) at(ctx, [k], 'only applies to load.mode: rate', 'set `load: { mode: rate, rate: 120/s, duration: 60s }`');
    }
    return undefined;
  }
  if (raw.policy !== undefined && raw.policies !== undefined) {
    at(ctx, ['policies'], 'give either policy or policies, not both', 'put the single policy under policies with a name');
  }
  if (raw.policies) {
    return Object.entries(raw.policies as Record<string, Raw | null>).map(([name, p]) => policy(name, p, ['policies', name], ctx));
  }
  if (raw.policy !== undefined) return [policy('policy', raw.policy, ['policy'], ctx)];
  return [{ name: 'none' }];
}
