/**
 * Folds Samples into one step's statistics (HDR histograms in µs, counts), and integrates in-flight over time
 * so the report can show achieved in-flight beside the target.
 */
import { OUTCOMES, type ErrorGroup, type Outcome, type Sample, type StepReport, type TokenTotals } from '../types.js';
import { encodeHistogram, newHistogram, percentilesMs, recordUs, type Histogram } from './hist.js';

/** `detail` of aborts dsprobe did on purpose: not errors, and their TTFT is real. */
export const OWN_ABORTS: ReadonlySet<string> = new Set(['step_down', 'search_done', 'drain_timeout', 'stopped']);

/** Error groups kept per step (by outcome/status/detail); further distinct groups are only counted. */
const MAX_ERROR_GROUPS = 20;

export function emptyTokens(): TokenTotals {
  return { prompt: 0, completion: 0, cache_hit: 0, cache_miss: 0, reasoning: 0 };
}

/** Adds token totals `t` into `into`. */
export function addTotals(into: TokenTotals, t: TokenTotals): void {
  into.prompt += t.prompt;
  into.completion += t.completion;
  into.cache_hit += t.cache_hit;
  into.cache_miss += t.cache_miss;
  into.reasoning += t.reasoning;
}

/** Adds one sample's reported (or estimated) usage into `into`. */
export function addTokens(into: TokenTotals, s: Sample): void {
  const u = s.usage;
  if (!u) return;
  into.prompt += u.prompt_tokens;
  into.completion += u.completion_tokens;
  into.cache_hit += u.cache_hit_tokens;
  into.cache_miss += u.cache_miss_tokens;
  into.reasoning += u.reasoning_tokens;
}

/** Statistics of one step of one model, built incrementally. */
export class StepRecorder {
  readonly model: string;
  readonly index: number;
  readonly target: number;
  readonly startUs: number;
  endUs: number | null = null;
  endedBy = 'hold';

  private readonly ttft: Histogram = newHistogram();
  private readonly latency: Histogram = newHistogram();
  private readonly kaWait: Histogram = newHistogram();
  private readonly tpot: Histogram = newHistogram();
  private readonly sendLag: Histogram = newHistogram();
  private readonly outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  private readonly statuses: Record<string, number> = {};
  private readonly errors = new Map<string, ErrorGroup>();
  private readonly tokens = emptyTokens();
  private requests = 0;
  private queued = 0;
  private estimatedUsage = 0;
  private serverReported: number | null = null;
  /** Recent TTFTs (µs) for the live progress line; bounded. */
  private liveTtft: number[] = [];

  // In-flight integration (count × µs) over the step.
  private area = 0;
  private lastUs: number;
  private lastInflight: number;
  private peak: number;
  private peakAdmitted = 0;

  constructor(model: string, index: number, target: number, startUs: number, inflightAtStart: number) {
    this.model = model;
    this.index = index;
    this.target = target;
    this.startUs = startUs;
    this.lastUs = startUs;
    this.lastInflight = inflightAtStart;
    this.peak = inflightAtStart;
  }

  /** Call whenever the model's in-flight count changes (after the change). */
  inflight(nowUs: number, count: number): void {
    this.area += this.lastInflight * (nowUs - this.lastUs);
    this.lastUs = nowUs;
    this.lastInflight = count;
    if (count > this.peak) this.peak = count;
  }

  /** Call whenever the model's admitted-and-open count changes. */
  admitted(count: number): void {
    if (count > this.peakAdmitted) this.peakAdmitted = count;
  }

  /** Time-weighted mean of in-flight requests from the step's start to `nowUs`. */
  achievedAt(nowUs: number): number {
    const end = this.endUs ?? nowUs;
    const area = this.area + this.lastInflight * Math.max(0, end - this.lastUs);
    return area / Math.max(1, end - this.startUs);
  }

  /** Most requests admitted and open at once so far in this step. */
  get peakAdmittedCount(): number {
    return this.peakAdmitted;
  }

  /** Folds one finished request that was sent during this step. */
  add(s: Sample): void {
    this.requests++;
    this.outcomes[s.outcome]++;
    const st = s.status === undefined ? 'none' : String(s.status);
    this.statuses[st] = (this.statuses[st] ?? 0) + 1;
    recordUs(this.sendLag, Math.max(1, s.sent_us - s.intended_us));
    if (s.server_concurrency !== undefined) {
      this.serverReported = Math.max(this.serverReported ?? 0, s.server_concurrency);
    }
    if (s.keepalives > 0) this.queued++;
    if (s.keepalives > 0 && s.first_keepalive_us !== undefined && s.first_data_us !== undefined) {
      recordUs(this.kaWait, s.first_data_us - s.first_keepalive_us);
    }
    // Usage of failed requests still costs money when the server reported it (or dsprobe estimated it).
    addTokens(this.tokens, s);
    if (s.usage_estimated) this.estimatedUsage++;
    // Failed requests never skew latency figures (guidellm #444): only admitted requests that completed feed the
    // histograms (and so every latency threshold). Requests dsprobe cut short (step down, search done, drain) are
    // counted by outcome but feed none: a cut request's TTFT would favour the ones that happened to be fast.
    const ownAbort = s.outcome === 'aborted' && OWN_ABORTS.has(s.detail ?? '');
    if (s.outcome === 'ok') {
      if (s.first_token_us !== undefined) {
        recordUs(this.ttft, s.first_token_us - s.sent_us);
        this.liveTtft.push(s.first_token_us - s.sent_us);
      }
    }
    if (s.outcome === 'ok') {
      recordUs(this.latency, s.end_us - s.sent_us);
      if (s.first_token_us !== undefined) {
        const out = s.usage?.completion_tokens ?? s.token_events ?? 0;
        if (out > 1) recordUs(this.tpot, (s.end_us - s.first_token_us) / (out - 1));
      }
    } else if (!ownAbort) {
      this.addError(s);
    }
  }

  private addError(s: Sample): void {
    const key = `${s.outcome}|${s.status ?? ''}|${s.detail ?? ''}`;
    const g = this.errors.get(key);
    if (g) {
      g.count++;
      return;
    }
    if (this.errors.size >= MAX_ERROR_GROUPS) return;
    this.errors.set(key, {
      outcome: s.outcome,
      status: s.status ?? null,
      detail: s.detail ?? null,
      count: 1,
      message: s.error ?? '',
    });
  }

  /** Cheap live figures for the progress display. */
  live(): { requests: number; rate_limited: number; errors: number; ttft_p50_ms: number; ttft_p99_ms: number } {
    if (this.liveTtft.length > 2048) this.liveTtft = this.liveTtft.slice(-1024);
    const xs = [...this.liveTtft].sort((a, b) => a - b);
    const at = (q: number) => (xs.length ? (xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number) / 1000 : 0);
    const o = this.outcomes;
    const errors = this.requests - o.ok - o.rate_limited - o.aborted;
    return { requests: this.requests, rate_limited: o.rate_limited, errors, ttft_p50_ms: at(0.5), ttft_p99_ms: at(0.99) };
  }

  /** Requests recorded so far. */
  get count(): number {
    return this.requests;
  }

  get rateLimited(): number {
    return this.outcomes.rate_limited;
  }

  /** The step's statistics; `nowUs` closes the in-flight integral if the step has not ended. */
  report(nowUs: number): StepReport {
    const end = this.endUs ?? nowUs;
    const area = this.area + this.lastInflight * Math.max(0, end - this.lastUs);
    const durUs = Math.max(1, end - this.startUs);
    const durS = durUs / 1e6;
    const n = this.requests;
    const errors = n - this.outcomes.ok - this.outcomes.rate_limited - this.outcomes.aborted;
    // Aborts other than dsprobe's own (e.g. Ctrl-C) are not server errors either.
    return {
      index: this.index,
      model: this.model,
      target_inflight: this.target,
      achieved_inflight: round2(area / durUs),
      peak_inflight: this.peak,
      peak_admitted: this.peakAdmitted,
      start_ms: round3(this.startUs / 1000),
      duration_ms: round3(durUs / 1000),
      ended_by: this.endedBy,
      requests: n,
      ok: this.outcomes.ok,
      rate_limited: this.outcomes.rate_limited,
      rate_429: n ? round6(this.outcomes.rate_limited / n) : 0,
      error_rate: n ? round6(errors / n) : 0,
      outcomes: { ...this.outcomes },
      statuses: { ...this.statuses },
      throughput_rps: round3(this.outcomes.ok / durS),
      output_tokens_per_s: round3(this.tokens.completion / durS),
      tokens: { ...this.tokens },
      estimated_usage: this.estimatedUsage,
      queued: this.queued,
      ttft_ms: percentilesMs(this.ttft),
      latency_ms: percentilesMs(this.latency),
      keepalive_wait_ms: percentilesMs(this.kaWait),
      tpot_ms: percentilesMs(this.tpot),
      send_lag_ms: percentilesMs(this.sendLag),
      histograms: {
        ttft: encodeHistogram(this.ttft),
        latency: encodeHistogram(this.latency),
        keepalive_wait: encodeHistogram(this.kaWait),
        tpot: encodeHistogram(this.tpot),
      },
      server_reported: this.serverReported,
      errors: [...this.errors.values()].sort((a, b) => b.count - a.count),
    };
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const round3 = (v: number) => Math.round(v * 1000) / 1000;
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
