/**
 * The mock's configuration: what users write (MockConfigInput, YAML-shaped, durations as `10s` or seconds)
 * and what the mock runs on (MockConfig, every default filled in, every duration in nominal milliseconds).
 * "Nominal" means before time_scale: the mock waits `nominal × time_scale` real milliseconds.
 */
import { DOCUMENTED_CAPS } from '../models.js';

/** A duration as written: `10s`, `500ms`, `2m`, `250us`, or a number of seconds. */
export type DurationInput = number | string;

/** The mock enforces DeepSeek's documented per-account caps (one table: src/models.ts). */
export const DEFAULT_CAPS: Readonly<Record<string, number>> = DOCUMENTED_CAPS;

/** Cap for a model that is served but has no cap configured anywhere, requests in flight. */
export const FALLBACK_CAP = 500;

/** The name of the account that accepts any key when strict_auth is off. */
export const DEFAULT_ACCOUNT = 'default';

/** DeepSeek's observed queue-timeout error text (older docs said 30 min, newer 10 min, the body says 900 s). */
export const QUEUE_TIMEOUT_MESSAGE =
  'We were unable to start processing your request within the 900-second timeout limit. Please try again later.';

/** Every fault the mock can inject (DEEPSEEK-API.md, "The mock"). docs/mock.md documents each one's bytes. */
export const FAULT_KINDS = [
  'http_error',
  'html_gateway',
  'forced_queue',
  'error_after_headers',
  'blank_only',
  'disconnect',
  'stall',
  'slow_headers',
  'malformed_chunk',
  'mid_stream_error',
  'balance_drain',
  'finish_reason',
] as const;

/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which requests a fault may hit; an omitted field matches everything. */
export interface FaultMatch {
  model?: string;
  account?: string;
  stream?: boolean;
}

/** One injected fault, normalised. */
export interface FaultConfig {
  kind: FaultKind;
  /** Probability in [0, 1] that a matching request gets this fault (seeded). The first fault that fires wins. */
  rate: number;
  match: FaultMatch;
  /** http_error / html_gateway: the status sent. */
  status?: number;
  /** Overrides the fault's error text (may hold anything, e.g. `<script>`, to test escaping downstream). */
  message?: string;
  /** disconnect / stall / malformed_chunk / mid_stream_error / finish_reason: tokens sent before it strikes. */
  after_tokens: number;
  /** forced_queue / stall / slow_headers / blank_only: how long, nominal ms. */
  duration_ms: number;
  /** balance_drain: USD drained from the account; undefined = all of it. */
  amount?: number;
  /** finish_reason: the reason sent. */
  reason: string;
}

/** A cap that moves over time or with the balance. Several matching schedules combine by minimum. */
export type ScheduleConfig = { account?: string; model?: string } & (
  | {
      kind: 'steps';
      /** Each step holds `cap` from `at_ms` (nominal, since the mock started) until the next step. */
      steps: { at_ms: number; cap: number }[];
      /** Restart the steps every `repeat_ms` (nominal); undefined = hold the last step. */
      repeat_ms?: number;
    }
  | { kind: 'sine'; min: number; max: number; period_ms: number }
  | {
      kind: 'balance';
      /** The first tier (in the order written) whose `below` exceeds the balance gives the cap. */
      tiers: { below: number; cap: number }[];
    }
);

/** The seeded latency model; every time is nominal ms (scaled by time_scale). */
export interface LatencyConfig {
  /** Time from the start of inference to the first token, before per-token prefill. */
  prefill_overhead_ms: number;
  /** Added per prompt token that missed the prefix cache. */
  prefill_per_token_ms: number;
  /** Time between output tokens at no load. */
  inter_token_ms: number;
  /** Relative seeded jitter applied to prefill and inter-token times, 0..1. */
  jitter: number;
  /** Reasoning length in tokens when thinking is on (uniform in [min, max]). */
  reasoning_tokens: { min: number; max: number };
  /** Answer length in tokens (uniform in [min, max]; max_tokens truncates with finish_reason `length`). */
  answer_tokens: { min: number; max: number };
  /** Inter-token time grows by `1 + load_slowdown × running / reference` (reference: slots, else the cap). */
  load_slowdown: number;
  /** Tokens per SSE chunk (1 = DeepSeek's framing; more makes thousands of streams cheap). */
  chunk_tokens: number;
  /**
   * Least time between two writes to one stream, nominal ms (0 = write each chunk when due). Frames stay
   * one chunk each; only their delivery is batched, which saves a syscall per chunk at 10,000 streams.
   */
  flush_interval_ms: number;
}

/** One account: keys, caps and balance. */
export interface AccountConfig {
  name: string;
  /** API keys that belong to it (all share its caps). */
  keys: string[];
  /** Per-model caps; a model missing here uses the top-level caps. */
  caps: Record<string, number>;
  /** Raised-quota account: a cap per user_id as well as the account cap. */
  raised: boolean;
  /** Per-user_id caps per model (raised accounts only); a model missing here uses the top-level user_caps. */
  user_caps: Record<string, number>;
  /** USD; at 0 or below requests get 402 Insufficient Balance. */
  balance: number;
}

/** The mock's whole configuration, normalised. */
export interface MockConfig {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Multiplies every timer (0.01 runs ten minutes in six seconds). */
  time_scale: number;
  seed: number;
  /** On: keys not listed under an account get 401. Off: they belong to the `default` account. */
  strict_auth: boolean;
  /** Model ids served; others get 400 Model Not Exist. Includes every model named under caps. */
  models: string[];
  /** Per-account caps per model (defaults 2500 flash, 500 pro). */
  caps: Record<string, number>;
  /** Per-user_id caps per model for raised accounts. */
  user_caps: Record<string, number>;
  /** Always holds the `default` account unless strict_auth is on and accounts were given. */
  accounts: AccountConfig[];
  schedules: ScheduleConfig[];
  /** Server-wide running slots per model; a missing model has unlimited slots (nothing queues). */
  slots: Record<string, number>;
  /** Interval of keep-alive bytes while queued, nominal ms. */
  keepalive_interval_ms: number;
  /** A queued request that has not started by then is closed, nominal ms (default 10 min). */
  queue_timeout_ms: number;
  /** cut: the connection is destroyed; error_body: the body ends with DeepSeek's timeout error. */
  queue_timeout_mode: 'cut' | 'error_body';
  queue_timeout_message: string;
  latency: LatencyConfig;
  faults: FaultConfig[];
  /** Granularity of the shared timer wheel, real ms (not scaled). */
  tick_ms: number;
}

/** The configuration as written in YAML or passed by programs. Every field is optional. */
export interface MockConfigInput {
  host?: string;
  port?: number;
  time_scale?: number;
  seed?: number;
  strict_auth?: boolean;
  models?: string[];
  caps?: Record<string, number>;
  user_caps?: Record<string, number>;
  accounts?: {
    name: string;
    keys?: string[];
    caps?: Record<string, number>;
    raised?: boolean;
    user_caps?: Record<string, number>;
    balance?: number | string;
  }[];
  schedules?: Record<string, unknown>[];
  slots?: Record<string, number>;
  keepalive_interval?: DurationInput;
  queue_timeout?: DurationInput;
  queue_timeout_mode?: 'cut' | 'error_body';
  queue_timeout_message?: string;
  latency?: {
    prefill_overhead?: DurationInput;
    prefill_per_token?: DurationInput;
    inter_token?: DurationInput;
    jitter?: number;
    reasoning_tokens?: { min?: number; max?: number } | number;
    answer_tokens?: { min?: number; max?: number } | number;
    load_slowdown?: number;
    chunk_tokens?: number;
    flush_interval?: DurationInput;
  };
  faults?: {
    kind: FaultKind;
    rate?: number | string;
    match?: FaultMatch;
    status?: number;
    message?: string;
    after_tokens?: number;
    duration?: DurationInput;
    amount?: number;
    reason?: string;
  }[];
  tick?: DurationInput;
}

/** Default latency model: roughly DeepSeek-like and cheap to serve. */
export const DEFAULT_LATENCY: LatencyConfig = {
  prefill_overhead_ms: 150,
  prefill_per_token_ms: 0.01,
  inter_token_ms: 20,
  jitter: 0.1,
  reasoning_tokens: { min: 20, max: 60 },
  answer_tokens: { min: 150, max: 600 },
  load_slowdown: 0.5,
  chunk_tokens: 1,
  flush_interval_ms: 100,
};

/** A fresh default configuration (one `default` account accepting any key, DeepSeek's caps, no slots limit). */
export function defaultMockConfig(): MockConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    time_scale: 1,
    seed: 1,
    strict_auth: false,
    models: Object.keys(DEFAULT_CAPS),
    caps: { ...DEFAULT_CAPS },
    user_caps: { ...DEFAULT_CAPS },
    accounts: [defaultAccount()],
    schedules: [],
    slots: {},
    keepalive_interval_ms: 1000,
    queue_timeout_ms: 600_000,
    queue_timeout_mode: 'cut',
    queue_timeout_message: QUEUE_TIMEOUT_MESSAGE,
    latency: structuredClone(DEFAULT_LATENCY),
    faults: [],
    tick_ms: 5,
  };
}

/** The `default` account: any key, top-level caps, $10 balance. */
export function defaultAccount(): AccountConfig {
  return { name: DEFAULT_ACCOUNT, keys: [], caps: {}, raised: false, user_caps: {}, balance: 10 };
}
