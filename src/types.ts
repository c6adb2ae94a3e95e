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
  /** The last keep-alive unit before the first real data (non-stream: the last leading blank line). */
  last_keepalive_us?: number;
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
  /**
   * At least this many requests sent after this one had their status line before it (absent when none): the
   * server saw them first, so its count at this request's arrival was at least `inflight_at_send + overtaken_by`.
   * Counted as status lines that arrived between its send and its own status beyond the requests open (and
   * unanswered) before it. Happens in a burst of sends, when a later request finds an open connection first.
   */
  overtaken_by?: number;
  /** Rate mode: the client policy that sent this attempt. */
  policy?: string;
  /** Rate mode: the scheduled arrival of the application request this attempt serves (µs, run clock). */
  arrival_us?: number;
  /** Rate mode: which attempt of its application request this is, from 1. */
  attempt?: number;
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

/** One row of a step's breakdown per API key (`id` = key index) or per user_id (`id` = the user_id, "" = none). */
export interface Breakdown {
  id: string;
  /** Requests sent in the step. */
  requests: number;
  /** Requests that got a non-429 status below 400. */
  admitted: number;
  rate_limited: number;
  /** Most of this key's / user_id's requests admitted and open at once during the step. */
  peak_open: number;
}

/** Statistics for one step (load level) of one model. */
export interface StepReport {
  index: number;
  model: string;
  target_inflight: number;
  /** Time-weighted mean of in-flight requests during the step. */
  achieved_inflight: number;
  /**
   * Time-weighted mean in flight over the held part of the step only: from when in flight first reached the
   * target to the step's end (absent when it never did). The ramp-up before it is `ramp_up_ms`.
   */
  held_inflight?: number;
  /** From the step's start until in flight first reached the target, ms (the ramp-up, reported on its own). */
  ramp_up_ms?: number;
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
  /** Why the step ended: `hold`, `decided_429`, `decided_held`, `stop_rule`, `interrupted`, `rebuilt`; merged steps join values with `+` (docs/report-schema.md). */
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
  /**
   * The same, over the launches due once the level was first held (its refills), without the ramp-up's: what the
   * client-bound verdict reads. Absent when the level was never held (then the verdict reads `send_lag_ms`).
   */
  held_send_lag_ms?: Percentiles;
  histograms: HistogramSet;
  /** Highest concurrency figure quoted by the server in 429 messages during this step, if any. */
  server_reported: number | null;
  /**
   * Fresh evidence that the level is clean: a request sent in this step was admitted while the admitted-and-open
   * count (itself included) reached the target. Old requests still open prove nothing about now.
   */
  fresh_held?: boolean;
  /** Most admitted-and-open requests at the admission of a request sent in this step. */
  fresh_peak_admitted?: number;
  /**
   * 429s of requests sent in this step that arrived once a higher level was current (counted in `rate_limited`,
   * but evidence against that higher level, not this one), and 429s of lower steps that arrived during this one.
   * The cap estimate reads a step's 429 evidence as `rate_limited - rate_limited_late + rate_limited_from_below`.
   */
  rate_limited_late?: number;
  rate_limited_from_below?: number;
  /** Requests sent in this step (counted at send; `requests` counts those that finished). */
  sent?: number;
  /** On the last step: the final drain after the level ended (requests finishing or cut), ms; not in duration_ms. */
  drain_ms?: number | null;
  /** The time this step's requests ran, first send to last end, ms: throughput is computed over it. */
  active_ms?: number;
  /** Server errors (5xx, queue-timeout bodies) and timeouts: how many, and the shortest and longest wait before them, ms. */
  failed_after_wait?: { count: number; min_ms: number; max_ms: number } | null;
  /** Queued requests (keep-alives, no data) that timed out or were closed while queued. */
  queued_timed_out?: number;
  /** Lowest in-flight count, measured at send, among this step's requests that saw keep-alives. */
  queueing_began_at?: number | null;
  /** Median time to first data of this step's requests that saw no keep-alive (the unqueued baseline), ms. */
  unqueued_ttfd_ms?: number | null;
  /** Per API key (index) and per user_id: requests, admitted, 429s, peak open. */
  by_key?: Breakdown[];
  by_user?: Breakdown[];
  errors: ErrorGroup[];
  /** dsprobe's own health during the step (absent in reports of older versions). */
  client?: ClientReport;
  /**
   * dsprobe itself may have set the pace of this step (a thread's loop delay or the send lag over 20 ms): its
   * latency figures include client lag (see docs/report-schema.md).
   */
  client_bound?: boolean;
}

/** dsprobe's own saturation during one step. */
export interface ClientReport {
  /** Worst sampled event-loop delay p99 per thread, ms: [main thread, worker 1, worker 2, ...]. */
  loop_p99_ms: number[];
  /** Connections opened for this step (before its clock started) or during it. */
  connects: number;
  /** TCP/TLS connect time of those connections (kept out of TTFT), ms. */
  connect_ms: Percentiles;
  /** Why the step is client-bound, when it is. */
  why?: string;
  /**
   * Share of the step each thread's event loop was busy, 0-1: `[main thread, worker 1, ...]`. Near 1, every read
   * waits behind others and that wait is in the step's latency figures.
   */
  busy?: number[];
  /** dsprobe's CPU time over the step's time, in cores (every thread; garbage collection and the kernel's socket work included). */
  cpu_cores?: number;
  /** Longest garbage-collection pause of any dsprobe thread in the step, ms: every read due in it waited that long. */
  gc_max_ms?: number;
  /**
   * Share of the machine's CPU time the host took over the step (CPU steal, 0-1; Linux only): time a shared or
   * overcommitted host ran something else while this machine had work. It stalls dsprobe as its own lag would.
   */
  host_steal?: number;
  /**
   * A thread's loop delay p99 was over the limit (for a search level: at its decision). Such a step is no evidence
   * for the cap. Send lag alone does not set it: it is also read from samples (rebuilt reports), where the lag of the
   * level's drain cannot be told from the lag before its decision.
   */
  loop_bound?: boolean;
}

/** One decision of the cap search, in run order. */
export interface CapDecision {
  /** When the level was decided, ms since run start. */
  t_ms: number;
  level: number;
  /** `clean`: fresh admissions held the level; `over`: a request sent at the level drew a 429; `undecided`. */
  verdict: 'clean' | 'over' | 'undecided';
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
  /** The lowest in-flight count (at send) at which a request saw keep-alives, if any. */
  queueing_began_at: number | null;
  /** Every level decision in run order (time, level, verdict). */
  history?: CapDecision[];
  /** When `edge` is noisy: the range of levels where admission was uncertain, and the 429 share seen across it. */
  band?: [number, number] | null;
  band_429_rate?: number | null;
  /** How the cap moved: drops and rises, in run order. */
  moves?: { t_ms: number; from: number; to: number; direction: 'drop' | 'rise' }[];
  /** Why the status is `unclear`, as a code: `moving`, `noisy`, `not_held`, `below_lowest`, `client_bound`, ... or null. */
  unclear_reason?: string | null;
  /** What the server's figure counts, in words (it is evidence beside the estimate, not the estimate). */
  server_reported_counts?: string | null;
  /**
   * The cause the evidence supports: `account_cap` (one cap shared by every key), `per_key_caps` (separate accounts),
   * `per_user_id_cap`, `queue_without_429`, `other_traffic`, or `unclear`.
   */
  cause?: string | null;
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
  /** The cap weighed against the scenario's `need:` for this model; absent when no need was given. */
  headroom?: Headroom;
}

/** Verdict of a cap against a need: `fits` (headroom >= 20 % of the cap), `tight` (0-20 %), `does_not_fit`, or `unknown`. */
export type HeadroomVerdict = 'fits' | 'tight' | 'does_not_fit' | 'unknown';

/** A model's cap weighed against what it must carry (`models.X.need`); see docs/report-schema.md. */
export interface Headroom {
  /** How the need was given: requests in flight, or a planned rate turned into in flight by Little's law. */
  need_from: 'inflight' | 'rate';
  /** The planned rate, requests per second (need_from `rate`), else null. */
  rate_per_s: number | null;
  /** Requests in flight needed: as given, or rate × mean latency at that load (rounded up). Null when not derivable. */
  need: number | null;
  /** need_from `rate`: rate × p99 latency at that load (rounded up), the in flight a slow spell needs; else null. */
  need_p99: number | null;
  /** The cap weighed: the estimate, or (cap not reached) the highest level admitted in full, a lower bound. */
  cap: number | null;
  cap_lower_bound: boolean;
  /** cap − need, requests in flight. */
  headroom: number | null;
  /** (cap − need) / cap: 0.2 is 20 % of the cap to spare; negative when the need exceeds the cap. */
  headroom_fraction: number | null;
  /** The measured in-flight level whose latency stands for the need level (see docs/report-schema.md). */
  level: number | null;
  /** Latency at that level (successful requests), ms; null when it had none. */
  ttft_ms: { p50: number; p99: number } | null;
  latency_ms: { p50: number; p99: number; mean: number } | null;
  verdict: HeadroomVerdict;
  /** The verdict in words, with what it rests on. */
  reason: string;
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

/**
 * Latency and failures over time, per model, in buckets of `bucket_ms` (1 s; doubled as often as needed to
 * keep at most about 600 buckets). Percentiles come from small HDR histograms of 2 significant digits
 * (within 1 %); null where the bucket had no successful request.
 */
export interface TimeSeries {
  bucket_ms: number;
  models: ModelSeries[];
}

/** One model's series; every array is aligned with `t_s`. */
export interface ModelSeries {
  model: string;
  /** Bucket start, seconds since the run started (requests are placed by the time they ended). */
  t_s: number[];
  ttft_p50_ms: (number | null)[];
  ttft_p99_ms: (number | null)[];
  latency_p50_ms: (number | null)[];
  latency_p99_ms: (number | null)[];
  ok: number[];
  rate_limited: number[];
  /** Client and server errors, network and protocol failures (not 429s, timeouts or dsprobe's own aborts). */
  errors: number[];
  timeouts: number[];
}

/** dsprobe's own event-loop health during the run. */
export interface LoopHealth {
  /** Null when unknown: a report rebuilt from samples.ndjson (the samples do not record the loop). */
  delay_p50_ms: number | null;
  delay_p99_ms: number | null;
  delay_max_ms: number | null;
  /** Set when the delay was too high for latency figures to be trusted. */
  warning: string | null;
}

export type RunStatus = 'completed' | 'interrupted' | 'failed' | 'budget_exceeded' | 'aborted_by_threshold';

/** Why a client policy gave a request up without an answer it could use (rate mode). */
export type ShedReason = 'queue_timeout' | 'breaker_open' | 'retries_exhausted' | 'max_inflight' | 'run_ended';

export const SHED_REASONS: readonly ShedReason[] = ['queue_timeout', 'breaker_open', 'retries_exhausted', 'max_inflight', 'run_ended'];

/** One bucket of a policy's timeline (t_ms from the policy's start; docs/report-schema.md). */
export interface AppTimelinePoint {
  t_ms: number;
  arrivals: number;
  ok: number;
  shed: number;
  failed: number;
  attempts: number;
  rate_limited: number;
  /** Most requests waiting in the client's queue during the bucket. */
  queue_max: number;
  /** Most attempts on the wire during the bucket. */
  inflight_max: number;
  /** Mean client-queue wait of the slots granted in the bucket, ms (0 when none). */
  queue_wait_mean_ms: number;
  /** Application latency of the successes that ended in the bucket, ms (0 when none). */
  app_p50_ms: number;
  app_p99_ms: number;
  /** The breaker was open or half-open at some point of the bucket. */
  breaker_open: boolean;
}

/** What the application saw under one policy, for one model (or all models: `model: null`). */
export interface AppStats {
  /** Requests that arrived (the schedule's arrivals for this model). */
  arrivals: number;
  ok: number;
  /** Successes that ended while arrivals still came (before the drain): goodput's numerator. */
  ok_in_schedule: number;
  shed: number;
  failed: number;
  shed_by_reason: Record<ShedReason, number>;
  /** Failed requests by the outcome of their last attempt. */
  failed_by_outcome: Partial<Record<Outcome, number>>;
  attempts: number;
  /** Attempts sent again after a retryable answer. */
  retries: number;
  app_latency_ms: Percentiles;
  queue_wait_ms: Percentiles;
  backoff_ms: Percentiles;
  /** Scheduled arrival to the moment dsprobe handled it (its own pacing lag), ms. */
  arrival_lag_ms: Percentiles;
  /** HDR histograms, compressed base64, µs. */
  histograms: { app_latency: string; queue_wait: string; arrival_lag: string };
  peak_queue: number;
  timeline: AppTimelinePoint[];
}

/** The derived figures of one policy and model (rate mode; docs/policies.md defines each). */
export interface PolicyModelReport extends AppStats {
  model: string;
  /** Arrivals per second over the schedule's duration. */
  offered_rps: number;
  /** Requests that succeeded per second while arrivals came (ok_in_schedule / the schedule's duration). */
  goodput_rps: number;
  /** ok / arrivals, as the application sees it. */
  success_rate: number;
  /** 429s / attempts, as the server sees it. */
  rate_429: number;
  /** Other failed attempts / attempts (client and server errors, timeouts, network, protocol). */
  error_rate: number;
  /** attempts / ok (retry amplification; null when nothing succeeded). */
  amplification: number | null;
  /** Latency of successful attempts alone (send to end), ms. */
  attempt_latency_ms: Percentiles;
  tokens: TokenTotals;
  usd: number;
  /** usd / ok and tokens / ok (null when nothing succeeded). */
  usd_per_success: number | null;
  tokens_per_success: number | null;
  /** Most attempts of this model the server was seen holding at once. */
  peak_admitted: number;
}

/** One client policy's run over the schedule. */
export interface PolicyReport {
  name: string;
  /** The policy as rehearsed (durations in ms). */
  spec: { pool?: number; queue_timeout_ms?: number; retry?: unknown; breaker?: unknown };
  /** The policy's start, ms since the run's start. */
  start_ms: number;
  duration_ms: number;
  /** Per model, then `all` (every model together) when there are several. */
  models: PolicyModelReport[];
  /** All models together (the same as models[0] with one model). */
  total: PolicyModelReport;
  breaker: { opens: number; open_ms: number; canaries_sent: number; canaries_failed: number; changes: { t_ms: number; state: string }[] } | null;
}

/** Rate mode: the open-loop schedule, every policy's results, and the recommendation. */
export interface RehearsalReport {
  arrival: 'poisson' | 'constant';
  stages: { rate: number; hold_ms: number }[];
  duration_ms: number;
  /** Arrivals in the schedule (every policy replays the same ones). */
  arrivals: number;
  max_inflight: number;
  /** Timeline bucket, ms. */
  bucket_ms: number;
  policies: PolicyReport[];
  /** The cap seen during the rehearsal, per model (the server's quoted figure, else the most it held at once). */
  caps: { model: string; cap: number | null; source: 'server_reported' | 'peak_admitted' | null }[];
  recommendation: {
    /** The policy with the most goodput among those meeting the criteria; null when none does. */
    policy: string | null;
    criteria: string[];
    /** The pool size it implies (its pool, else the most it kept in flight) and its share of the cap seen. */
    pool: number | null;
    pool_vs_cap: number | null;
    text: string;
  };
}

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
  mode: 'search' | 'ramp' | 'rate';
  target: { url: string; protocol: 'openai' | 'anthropic'; mock: boolean; keys: number };
  /** The scenario as run, secrets redacted. */
  scenario: unknown;
  models: ModelReport[];
  timeline: TimelinePoint[];
  thresholds: ThresholdResult[];
  /** What the whole run cost, from the usage the server reported. */
  cost: {
    usd: number;
    tokens: TokenTotals;
    requests: number;
    admitted: number;
    estimated: boolean;
    /**
     * Search mode: what finding the caps cost (every step but measure_at's), apart from the measurement at the
     * user's workload (steps with `ended_by: measure`). USD.
     */
    split?: { search_usd: number; measure_usd: number };
  };
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
  /** Rate mode: the client-policy rehearsal (docs/policies.md). */
  rehearsal?: RehearsalReport;
  /** Latency, errors and timeouts over time per model (absent from reports written before it existed). */
  series?: TimeSeries;
}

/** One threshold as written (`expect:` in YAML or `--expect`), owned by the scenario, parsed by measure/thresholds. */
export interface ThresholdSpec {
  expression: string;
  abort_on_fail: boolean;
  /** Where it was written, for error messages: `file:line:col` or `--expect`. */
  source?: string;
}

/** USD per million tokens. */
export interface Price {
  input_cache_hit: number;
  input_cache_miss: number;
  output: number;
}

/**
 * A model's need (scenario `models.X.need`): requests in flight at once, or a planned request rate (per second)
 * that the report turns into in flight by Little's law (rate × mean latency measured at that load). On the ground
 * floor so measure/ can read it without importing scenario/.
 */
export type NeedSpec = { inflight: number } | { rate_per_s: number };
