/**
 * The normalised scenario: what readScenario() returns once a YAML file validated.
 * Every duration is in milliseconds; every default is filled in, so later stages never guess.
 */
import type { Price, ThresholdSpec } from '../types.js';

export type Protocol = 'openai' | 'anthropic';

export interface ModelSpec {
  /** Model id sent on the wire, e.g. `deepseek-v4-flash`. */
  name: string;
  /** Share of the total in-flight target in ramp mode (weights are normalised). Default 1. */
  weight: number;
  /** Fixed per-model in-flight target(s) overriding the weighted split (ramp mode) or the search start. */
  inflight?: number;
  /** Per-model upper bound for search/ramp; default load.max. */
  max?: number;
  /** What this model must carry at launch (`need:`); the report weighs the cap against it. */
  need?: NeedSpec;
}

import type { NeedSpec } from '../types.js';
export type { NeedSpec };

export interface UserIdStrategy {
  /** none: no user_id; fixed: always `value`; rotating: `${prefix}${i % count}`. */
  strategy: 'none' | 'fixed' | 'rotating';
  value?: string;
  count?: number;
  prefix?: string;
}

export interface RequestSpec {
  /** Approximate size of the seeded synthetic prompt, tokens (system prefix included). */
  prompt_tokens: number;
  max_tokens: number;
  stream: boolean;
  /** Tokens of a shared system-prompt prefix identical across requests (exercises the prefix cache). 0 = none. */
  system_prefix_tokens: number;
  thinking: boolean;
  reasoning_effort?: 'high' | 'max';
  user_id: UserIdStrategy;
  /** Absolute per-request deadline from send, ms. Keep-alives never extend it. */
  timeout_ms: number;
  temperature?: number;
  /** Largest 2xx non-stream body read, bytes (also bounds one SSE line / event, at most 4 MiB). Unset: 16 MiB. */
  max_body?: number;
}

export interface Stage {
  inflight: number;
  hold_ms: number;
}

export interface LoadSpec {
  mode: 'search' | 'ramp' | 'rate';
  /** First in-flight level (per model in search mode; total in ramp mode). */
  start: number;
  /** Highest in-flight level tried. */
  max: number;
  /** How long a level is held at most, ms. */
  hold_ms: number;
  /** Ramp mode: added to the level each step (ignored when `stages` is given). */
  step?: number;
  /** Ramp mode: explicit stages instead of start/step/max. */
  stages?: Stage[];
  /** Search mode: the bracket [low, high] is narrowed until high - low <= precision. Default 1. */
  precision: number;
  /** Search mode: geometric growth factor while no 429 was seen. Default 2. */
  growth: number;
  /** Search mode: re-check the boundary once found, to tell a cliff from noise. Default true. */
  recheck: boolean;
  /** What a slot that drew a 429 does before it is refilled (every mode). */
  on_429: BackoffSpec;
  /** How long the final drain waits for open requests before cutting them, ms. Default 30 s. */
  drain_ms: number;
  /** Rate mode: the open-loop arrival schedule and its guard (docs/policies.md). */
  rate?: RateLoad;
}

/** One stage of an open-loop arrival schedule. */
export interface RateStage {
  /** Arrivals per second (over all models; split by weight). */
  rate: number;
  hold_ms: number;
}

/** Rate mode (`load.mode: rate`): arrivals on a seeded schedule, independent of answers. */
export interface RateLoad {
  arrival: 'poisson' | 'constant';
  /** `rate` + `duration` is one stage. */
  stages: RateStage[];
  /** Sum of the stages' holds, ms. */
  duration_ms: number;
  /** Attempts on the wire at most; an attempt past it is dropped and counted. */
  max_inflight: number;
  /** After the last arrival, how long open requests may finish before they are cut, ms. */
  drain_ms: number;
}

/** Retries of a client policy. */
export interface RetrySpec {
  /** Statuses retried. */
  on: number[];
  /** Attempts in all, the first included. */
  max_attempts: number;
  base_ms: number;
  factor: number;
  max_ms: number;
  jitter: 'full' | 'equal' | 'none';
  honor_retry_after: boolean;
}

/** A circuit breaker of a client policy. */
export interface BreakerSpec {
  window_ms: number;
  /** Share of the window's attempts that drew 429/5xx at which it opens, 0..1. */
  open_when: number;
  min_attempts: number;
  cool_off_ms: number;
  canaries: number;
}

/** One client policy rehearsed in rate mode. Every part is optional: `{}` (the policy `none`) sends raw. */
export interface PolicySpec {
  name: string;
  pool?: number;
  /** Shed after waiting this long in the client's queue, ms (only with a pool). */
  queue_timeout_ms?: number;
  retry?: RetrySpec;
  breaker?: BreakerSpec;
}

/** `load.on_429`: exponential backoff with full jitter per refused slot, reset when the slot is admitted. */
export interface BackoffSpec {
  /** false: a refused slot is refilled at once (a deliberate 429 storm). Default true. */
  enabled: boolean;
  /** Ceiling of the first delay, ms. Default 1000. */
  base_ms: number;
  /** The ceiling grows by this factor with every 429 in a row. Default 2. */
  factor: number;
  /** Largest ceiling (and largest Retry-After honoured), ms. Default 30 000. */
  cap_ms: number;
}

export interface StopRules {
  /** Stop raising load (ramp) / treat a level as over the cap (search) above this 429 rate. Default 0.05 in ramp. */
  max_429_rate?: number;
  /** Stop when non-429 errors exceed this rate. */
  max_error_rate?: number;
}

/** One threshold as written: a plain type on the ground floor (src/types.ts), so measure/ needs no scenario import. */
export type { ThresholdSpec } from '../types.js';

export interface Budget {
  max_usd?: number;
  max_tokens?: number;
}

/** USD per million tokens: a plain type on the ground floor (src/types.ts), so cost/ needs no scenario import. */
export type { Price } from '../types.js';

/** How the cap search shapes its requests (docs/watch.md, "Cheap probes"). */
export interface ProbeSpec {
  mode: 'full' | 'cheap';
  /** Cheap: max_tokens sent (a ceiling; requests are cut when their level is decided). Unset = derived from the hold. */
  max_tokens?: number;
  /** Cheap: shared system prefix, tokens. */
  system_prefix_tokens: number;
  /** Cheap: pause after a cut before the next level, ms (the server must notice the disconnects first). */
  settle_ms?: number;
}

export interface TargetSpec {
  /** `mock` (the built-in mock, started for the run) or an http(s) base URL. */
  url: string;
  protocol: Protocol;
  /** Names of environment variables holding API keys (one or more; keys rotate per request). */
  api_key_env: string[];
  /** Extra request headers (values may be `${ENV}` references; never logged). */
  headers: Record<string, string>;
}

export interface Scenario {
  name: string;
  /** Path of the YAML file it came from, if any. */
  file?: string;
  target: TargetSpec;
  models: ModelSpec[];
  request: RequestSpec;
  load: LoadSpec;
  stop: StopRules;
  expect: ThresholdSpec[];
  budget: Budget;
  pricing: Record<string, Price>;
  /** How dsprobe runs the load: `workers` threads (`auto`: cores minus one, resolved by the CLI). */
  engine?: { workers: number | 'auto' };
  /** Search stops at documented cap × (1 - safety_margin) against real targets. 0..1. */
  safety_margin?: number;
  /** Request shape of the cap search (`full` unless `probe: cheap`). */
  probe?: ProbeSpec;
  /** Search: fractions of the found cap held afterwards with the real request shape. */
  measure_at?: number[];
  /** Inline mock options (only when target.url is `mock`); validated by the mock's own config parser. */
  mock?: Record<string, unknown>;
  seed: number;
  /** Rate mode: the client policies rehearsed, in order (one named `none` when the scenario gives none). */
  policies?: PolicySpec[];
  /** Warnings found while reading the scenario (retired model ids, ignored keys); never blocking. */
  warnings?: string[];
}
