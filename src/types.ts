/**
 * The plain data that flows through dsprobe's pipeline (see ARCHITECTURE.md):
 * Sample (facts about one request) -> StepStats (folded per step and model) -> Report.
 *
 * Units: every `*_us` timestamp is integer microseconds on dsprobe's monotonic clock,
 * relative to the run's start (t = 0 when the run began). Every `*_ms` statistic is
 * milliseconds (float). Histograms record integer microseconds.
 */

/** How one request ended. A failed request is a value, never an exception. */
export type Outcome =
  | 'ok'
  | 'rate_limited'
  | 'client_error'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'protocol'
  | 'aborted';

export const OUTCOMES: readonly Outcome[] = [
  'ok',
  'rate_limited',
  'client_error',
  'server_error',
  'timeout',
  'network',
  'protocol',
  'aborted',
];

/** Token usage as the server reported it (absent fields = not reported). */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Prompt tokens served from the prefix cache (DeepSeek `prompt_cache_hit_tokens`). */
  cache_hit_tokens: number;
  /** Prompt tokens not served from cache (DeepSeek `prompt_cache_miss_tokens`). */
  cache_miss_tokens: number;
  /** Included in completion_tokens. */
  reasoning_tokens: number;
}

/**
 * Facts about one request, whatever happened to it. Durations are derived later.
 * Written one per line to samples.ndjson as requests finish.
 */
export interface Sample {
  /** Sequence number within the run, from 0. */
  id: number;
  model: string;
  /** Index of the step (load level) this request belongs to, per model, from 0. */
  step: number;
  /** The in-flight target of that step for this model. */
  target_inflight: number;
  /** Index into the scenario's api_key_env list (never the key itself). */
  key_index: number;
  user_id?: string;
  /** When the executor meant to send (a slot freed or the step started). */
  intended_us: number;
  /** When the request was actually handed to the transport. */
  sent_us: number;
  /** Response status line and headers received. */
  headers_us?: number;
  status?: number;
  /** First body byte (keep-alives included). */
  first_byte_us?: number;
  /** Keep-alive units seen before the first real data: blank lines (non-stream) or `: keep-alive` comments (SSE). */
  keepalives: number;
  first_keepalive_us?: number;
  /** First body data that is not a keep-alive. */
  first_data_us?: number;
  /** First reasoning or answer token. */
  first_token_us?: number;
  /** Response complete, failed, or aborted. */
  end_us: number;
  outcome: Outcome;
  /** A short stable detail of the outcome, e.g. `http_429`, `queue_timeout`, `mid_stream_error`, `cut`, `deadline`, `bad_json`. */
  detail?: string;
  /** Server's error message, truncated to 300 chars. Untrusted text: escape before rendering. */
  error?: string;
  finish_reason?: string;
  usage?: Usage;
  /**
   * True when the server reported no usage (the response was cut or aborted after admission) and `usage` is
   * dsprobe's estimate: prompt tokens from the prompt's length (about 4 characters a token, all counted as cache
   * misses) and completion tokens from the token deltas received. A lower bound for output; cost says "estimated".
   */
  usage_estimated?: boolean;
  /** Output chunks/deltas that carried tokens (for time-per-output-token when usage is missing). */
  token_events?: number;
  /** The concurrency figure quoted in a 429 message ("Your current concurrency: N"). */
  server_concurrency?: number;
  /** The limit figure quoted in a balance-variant 429 ("concurrency limit of N"). */
  server_limit?: number;
  /** `retry-after` / `retry-after-ms` if sent. */
  retry_after?: string;
  /** Any `x-ratelimit-*` / `ratelimit-*` headers the server sent. */
  ratelimit?: Record<string, string>;
  trace_id?: string;
  /** This model's requests in flight when this one was sent, itself included. */
  inflight_at_send: number;
}

/** Latency percentiles in milliseconds. All zero with count 0 when nothing was recorded. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** The four histograms kept per step and model, serialised as HDR compressed base64 (microseconds). */
export interface HistogramSet {
  ttft: string;
  latency: string;
  keepalive_wait: string;
  tpot: string;
}

export interface TokenTotals {
  prompt: number;
  completion: number;
  cache_hit: number;
  cache_miss: number;
  reasoning: number;
}

/** One sample error message grouped by outcome class and status. */
export interface ErrorGroup {
  outcome: Outcome;
  status: number | null;
  detail: string | null;
  count: number;
  /** Example message (untrusted server text). */
  message: string;
}

/** Statistics for one step (load level) of one model. */
export interface StepReport {
  index: number;
  model: string;
  target_inflight: number;
  /** Time-weighted mean of in-flight requests during the step. */
  achieved_inflight: number;
  /** Highest in-flight count seen during the step. */
  peak_inflight: number;
  /**
   * Most requests of this model admitted (a non-429 status received) and still open at once during the step:
   * what the server was seen holding. On a level over the cap this is the cap itself.
   */
  peak_admitted: number;
  /** Step start, ms since run start. */
  start_ms: number;
  duration_ms: number;
  /** Why the step ended: `hold` (held full time), `decided` (search had enough evidence), `stop_rule`, `interrupted`, `budget`, ... */
  ended_by: string;
  requests: number;
  ok: number;
  rate_limited: number;
  /** rate_limited / requests (0 when requests = 0). */
  rate_429: number;
  error_rate: number;
  outcomes: Record<Outcome, number>;
  /** Count by HTTP status ("none" for requests that got no status). */
  statuses: Record<string, number>;
  throughput_rps: number;
  output_tokens_per_s: number;
  tokens: TokenTotals;
  /** Requests whose usage is dsprobe's estimate (see Sample.usage_estimated). */
  estimated_usage: number;
  /** Requests that received at least one keep-alive before data (were queued). */
  queued: number;
  ttft_ms: Percentiles;
  latency_ms: Percentiles;
  keepalive_wait_ms: Percentiles;
  tpot_ms: Percentiles;
  /** Lag between intended and actual send (client-side), ms. */
  send_lag_ms: Percentiles;
  histograms: HistogramSet;
  /** Highest concurrency figure quoted by the server in 429 messages during this step, if any. */
  server_reported: number | null;
  errors: ErrorGroup[];
}

export type CapStatus = 'found' | 'not_reached' | 'unclear';

/** What the run concluded about one model's concurrency cap. */
export interface CapEstimate {
  status: CapStatus;
  /** Largest in-flight level that drew no 429 (null if none). */
  low: number | null;
  /** Smallest in-flight level that drew a 429 (null if none). */
  high: number | null;
  /** How many concurrent requests the account admits (null if unknown). */
  estimate: number | null;
  /** The figure quoted in 429 messages (the server's own count), if any. */
  server_reported: number | null;
  /** DeepSeek's documented cap for this model, if known. */
  documented: number | null;
  /** estimate - documented, when both are known. */
  headroom: number | null;
  /** `cliff` (429s jump from 0 to most requests) or `noisy` (429s rise gradually) or null. */
  edge: 'cliff' | 'noisy' | null;
  /** True when evidence suggests the cap changed during the run. */
  moved: boolean;
  /** The lowest in-flight level at which keep-alive queueing was seen, if any. */
  queueing_began_at: number | null;
  /** Evidence in words, one sentence each. */
  evidence: string[];
}

/** What finding a cap spent (search mode) or what the run spent per model. */
export interface Spend {
  requests: number;
  admitted: number;
  rate_limited: number;
  tokens: TokenTotals;
  usd: number;
  seconds: number;
}

export interface ModelReport {
  model: string;
  weight: number;
  cap: CapEstimate;
  steps: StepReport[];
  spend: Spend;
}

/** One threshold's verdict. */
export interface ThresholdResult {
  expression: string;
  passed: boolean;
  /** The measured value (null when there was no data). */
  actual: number | null;
  /** Human-readable measured value, e.g. "2.31s" or "0.4%". */
  actual_text: string;
  abort_on_fail: boolean;
  /** Why it could not be evaluated, if so. */
  note?: string;
}

/** One point of the in-flight timeline (downsampled). */
export interface TimelinePoint {
  t_ms: number;
  model: string;
  inflight: number;
  target: number;
  /** 429s received since the previous point. */
  rate_limited: number;
  /** Requests completed since the previous point. */
  completed: number;
  /** Slots waiting on a 429 backoff (load.on_429) at this point; absent in reports rebuilt from samples. */
  backoff_waiting?: number;
}

/** dsprobe's own event-loop health during the run. */
export interface LoopHealth {
  delay_p50_ms: number;
  delay_p99_ms: number;
  delay_max_ms: number;
  /** Set when the delay was too high for latency figures to be trusted. */
  warning: string | null;
}

export type RunStatus = 'completed' | 'interrupted' | 'failed' | 'budget_exceeded' | 'aborted_by_threshold';

/** report.json, schema `dsprobe.report/v1` (documented in docs/report-schema.md). */
export interface Report {
  schema: 'dsprobe.report/v1';
  name: string;
  status: RunStatus;
  /** Why the run ended early, if it did. */
  status_reason: string | null;
  /** Wall-clock ISO time the run started (for humans; measurements use the monotonic clock). */
  started_at: string;
  duration_ms: number;
  seed: number;
  mode: 'search' | 'ramp';
  target: { url: string; protocol: 'openai' | 'anthropic'; mock: boolean; keys: number };
  /** The scenario as run, secrets redacted. */
  scenario: unknown;
  models: ModelReport[];
  timeline: TimelinePoint[];
  thresholds: ThresholdResult[];
  /** What the whole run cost, from the usage the server reported. */
  cost: { usd: number; tokens: TokenTotals; requests: number; admitted: number; estimated: boolean };
  loop: LoopHealth;
  environment: { dsprobe: string; node: string; os: string; arch: string; cpus: number; hostname_hash?: string };
  warnings: string[];
  /** The hard budget (when one was set): the limits, what was spent, and what open requests still held reserved at the end. */
  budget?: {
    max_usd: number | null;
    max_tokens: number | null;
    spent_usd: number;
    spent_tokens: number;
    reserved_usd: number;
    reserved_tokens: number;
  };
  /** Shards merged into this report, when produced by `dsprobe merge`. */
  shards?: number;
}
