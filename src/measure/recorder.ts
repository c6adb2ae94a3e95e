/**
 * Folds Samples into one step's statistics (HDR histograms in µs, counts), and integrates in-flight over time
 * so the report can show achieved in-flight beside the target.
 */
import { OUTCOMES, type Breakdown, type ErrorGroup, type Outcome, type Percentiles, type Sample, type StepReport, type TokenTotals } from '../types.js';
import { encodeHistogram, newHistogram, percentilesMs, recordUs, type Histogram } from './hist.js';
import { ClientRecorder } from './client.js';
import { QueuedSpans } from './queued-spans.js';

/** `detail` of aborts dsprobe did on purpose: not errors, and their TTFT is real. */
export const OWN_ABORTS: ReadonlySet<string> = new Set(['step_down', 'refresh', 'search_done', 'drain_timeout', 'stopped', 'level_decided', 'calibrated', 'run_ended']);

/** True for an abort dsprobe did on purpose, with or without an answer (`step_down`, `step_down_before_any_answer`). */
export function isOwnAbort(s: Pick<Sample, 'outcome' | 'detail'>): boolean {
  if (s.outcome !== 'aborted') return false;
  const d = (s.detail ?? '').replace(/_before_any_answer$/, '');
  return OWN_ABORTS.has(d);
}

/** Recent first-token times kept per step for the live progress line. */
export const LIVE_TTFT_KEPT = 1024;

/** Most user_id rows kept per step (the busiest); a rotating strategy with thousands of ids would swamp the report. */
export const MAX_USER_ROWS = 20;

/**
 * Queued-wait estimate of one request that saw keep-alives (docs/report-schema.md, "Keep-alive wait"): its time to
 * first data minus the unqueued baseline (median time to first data of requests at the same level and model that
 * saw none), never less than the span from its send to its last keep-alive, and (when the server's keep-alive
 * interval is known from two or more of them) never more than one interval past the last one: the queue would have
 * sent another. µs.
 */
export function keepaliveWaitUs(ttfdUs: number, lastKeepaliveSpanUs: number, baselineUs: number | null, intervalUs: number | null = null): number {
  const est = baselineUs === null ? lastKeepaliveSpanUs : ttfdUs - baselineUs;
  const upper = intervalUs === null ? Infinity : lastKeepaliveSpanUs + intervalUs;
  return Math.min(upper, Math.max(lastKeepaliveSpanUs, est));
}

/** The server's keep-alive interval as one request saw it (µs), or null with fewer than two keep-alives. */
export function keepaliveIntervalUs(s: Pick<Sample, 'keepalives' | 'first_keepalive_us' | 'last_keepalive_us'>): number | null {
  if (s.keepalives < 2 || s.first_keepalive_us === undefined || s.last_keepalive_us === undefined) return null;
  return (s.last_keepalive_us - s.first_keepalive_us) / (s.keepalives - 1);
}

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
/**
 * Attributes a 429 that arrived after its own step ended: when the step current at its arrival (`steps` in run
 * order, each with its start) holds a higher level than the one it was sent at, the 429 is that level's evidence
 * (the server refused it because the higher level's requests were counted). Live (driver) and rebuilt
 * (report/build.ts) reports both use this, so they agree.
 */
export function attributeLate429<T extends { readonly startUs: number; readonly target: number }>(
  steps: readonly T[],
  sentIn: T,
  arrivedUs: number,
): T | null {
  let i = steps.length - 1;
  while (i > 0 && (steps[i] as T).startUs > arrivedUs) i--;
  const at = steps[i] as T | undefined;
  return at && at !== sentIn && at.target > sentIn.target ? at : null;
}

export class StepRecorder {
  readonly model: string;
  readonly index: number;
  readonly target: number;
  readonly startUs: number;
  endUs: number | null = null;
  endedBy = 'hold';
  /** dsprobe's own health during the step (loop delay per thread, connects). */
  readonly client = new ClientRecorder();

  private readonly ttft: Histogram = newHistogram();
  private readonly latency: Histogram = newHistogram();
  private readonly tpot: Histogram = newHistogram();
  private readonly sendLag: Histogram = newHistogram();
  /**
   * Send lag of the launches due once the level was first filled (its refills), apart from the ramp-up's: a level
   * of thousands takes dsprobe some tens of ms to send, and that is the ramp-up's time, not a sign that dsprobe fell
   * behind the level. The client-bound verdict reads this one once the level was filled; a level over the cap is
   * filled (every slot sent or waiting out its backoff) though never held, and its burst is a ramp-up like any other.
   */
  private readonly heldSendLag: Histogram = newHistogram();
  private readonly outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  private readonly statuses: Record<string, number> = {};
  private readonly errors = new Map<string, ErrorGroup>();
  private readonly tokens = emptyTokens();
  private requests = 0;
  private queued = 0;
  private estimatedUsage = 0;
  private serverReported: number | null = null;
  /** Requests sent in this step (fresh), by key index and by user_id. */
  private readonly byKey = new Map<string, Breakdown>();
  private readonly byUser = new Map<string, Breakdown>();
  private sentCount = 0;
  private freshPeak = 0;
  private freshHeldUs: number | null = null;
  /** Queued requests: time to first data (or null), send to last keep-alive, interval; bounded (queued-spans.ts). */
  private readonly queuedSpans = new QueuedSpans();
  /** Unqueued times to first data (µs), as a histogram: a long step must not keep one number per request. */
  private readonly unqueuedTtfd: Histogram = newHistogram();
  private queuedTimedOut = 0;
  /** Failures that came after a wait (5xx other than mid-stream, timeouts): count and the span of their waits, µs. */
  private waitFail = { count: 0, minUs: Infinity, maxUs: 0 };
  private queueMinInflight: number | null = null;
  /** 429s of this step answered once a higher level was current, and those of lower steps answered during this one. */
  private limitedLate = 0;
  private limitedFromBelow = 0;
  private firstSendUs: number | null = null;
  private lastEndUs: number | null = null;
  /** Recent TTFTs (µs) for the live progress line: a ring of the last LIVE_TTFT_KEPT. */
  private readonly liveTtft = new Float64Array(LIVE_TTFT_KEPT);
  private liveNext = 0;
  private liveCount = 0;

  // In-flight integration (count × µs) over the step.
  private area = 0;
  private lastUs: number;
  private lastInflight: number;
  private peak: number;
  private peakAdmitted = 0;
  private heldFromUs: number | null = null;
  /**
   * When dsprobe first had every slot of the level sent (or waiting out a 429 backoff), µs: the end of its ramp-up
   * as the sender sees it. A level over the cap is filled without ever being held (its 429s end at once).
   */
  private filledFromUs: number | null = null;
  private heldArea0 = 0;

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
    // After the step ended (the final drain is its own phase) nothing more is integrated.
    const t = this.endUs !== null ? Math.min(nowUs, this.endUs) : nowUs;
    this.area += this.lastInflight * Math.max(0, t - this.lastUs);
    this.lastUs = Math.max(this.lastUs, t);
    this.lastInflight = count;
    if (this.endUs === null && count > this.peak) this.peak = count;
    // The held part of the level starts when in flight first reaches the target (before it: the ramp-up).
    if (this.heldFromUs === null && count >= this.target) {
      if (this.filledFromUs === null) this.filledFromUs = nowUs;
      this.heldFromUs = nowUs;
      this.heldArea0 = this.area;
    }
  }

  /** The final drain after this (last) step ended: how long its requests took to finish or be cut, µs. */
  drainUs: number | null = null;

  /** The sender had every slot of the level sent or waiting out a backoff (driver hook; the first call counts). */
  filled(nowUs: number): void {
    if (this.filledFromUs === null && this.endUs === null) this.filledFromUs = nowUs;
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

  /** A request of this step was handed to the transport (driver hook). */
  sent(keyIndex: number, userId: string): void {
    this.sentCount++;
    this.row(this.byKey, String(keyIndex)).requests++;
    this.row(this.byUser, userId).requests++;
  }

  /**
   * A request *sent in this step* was admitted, leaving `admittedOpen` admitted and open (itself included). When
   * that reaches the level, the server admitted new work while holding the whole level: the fresh proof that the
   * level is clean now (old open requests prove nothing about now).
   */
  freshAdmission(admittedOpen: number, atUs: number): void {
    if (admittedOpen > this.freshPeak) this.freshPeak = admittedOpen;
    if (admittedOpen >= this.target && this.freshHeldUs === null) this.freshHeldUs = atUs;
  }

  /** Peaks of admitted-and-open requests per key and per user_id (driver hook, on each admission). */
  openPeaks(keyIndex: number, keyOpen: number, userId: string, userOpen: number): void {
    // keyIndex < 0 / userId "\u0000": only the other one is being seeded.
    if (keyIndex >= 0) {
      const k = this.row(this.byKey, String(keyIndex));
      if (keyOpen > k.peak_open) k.peak_open = keyOpen;
    }
    if (userId !== '\u0000') {
      const u = this.row(this.byUser, userId);
      if (userOpen > u.peak_open) u.peak_open = userOpen;
    }
  }

  /** When the level was proven held by fresh evidence (µs), or null. */
  get freshHeldAt(): number | null {
    return this.freshHeldUs;
  }

  /** Most admitted-and-open requests at the admission of a request sent in this step. */
  get freshPeakAdmitted(): number {
    return this.freshPeak;
  }

  /** Requests sent in this step so far. */
  get sentRequests(): number {
    return this.sentCount;
  }

  private row(m: Map<string, Breakdown>, id: string): Breakdown {
    let r = m.get(id);
    if (!r) {
      r = { id, requests: 0, admitted: 0, rate_limited: 0, peak_open: 0 };
      m.set(id, r);
    }
    return r;
  }
  /**
   * Achieved in-flight over the held part of the step only (from when in flight first reached the target to the
   * step's end), and the ramp-up before it. Absent when the target was never reached.
   */
  private heldPart(area: number, end: number): { held_inflight?: number; ramp_up_ms?: number } {
    if (this.heldFromUs === null || end <= this.heldFromUs) return {};
    return { held_inflight: round2((area - this.heldArea0) / (end - this.heldFromUs)), ramp_up_ms: round3((this.heldFromUs - this.startUs) / 1000) };
  }



  /** Most requests admitted and open at once so far in this step. */
  get peakAdmittedCount(): number {
    return this.peakAdmitted;
  }

  /** The in-flight count last reported (rate mode's progress line reads it). */
  get inflightNow(): number {
    return this.lastInflight;
  }

  /** Folds one finished request that was sent during this step. */
  add(s: Sample, firstTokenSeenLive = false): void {
    this.requests++;
    this.outcomes[s.outcome]++;
    const st = s.status === undefined ? 'none' : String(s.status);
    this.statuses[st] = (this.statuses[st] ?? 0) + 1;
    const lag = Math.max(1, s.sent_us - s.intended_us);
    recordUs(this.sendLag, lag);
    if (this.filledFromUs !== null && s.intended_us >= this.filledFromUs) recordUs(this.heldSendLag, lag);
    if (s.server_concurrency !== undefined) {
      this.serverReported = Math.max(this.serverReported ?? 0, s.server_concurrency);
    }
    this.foldQueueing(s);
    this.foldBreakdown(s);
    if ((s.outcome === 'server_error' && s.detail !== 'mid_stream_error') || s.outcome === 'timeout') {
      const w = s.end_us - s.sent_us;
      this.waitFail.count++;
      this.waitFail.minUs = Math.min(this.waitFail.minUs, w);
      this.waitFail.maxUs = Math.max(this.waitFail.maxUs, w);
    }
    if (this.firstSendUs === null || s.sent_us < this.firstSendUs) this.firstSendUs = s.sent_us;
    if (this.lastEndUs === null || s.end_us > this.lastEndUs) this.lastEndUs = s.end_us;
    // Usage of failed requests still costs money when the server reported it (or dsprobe estimated it).
    addTokens(this.tokens, s);
    if (s.usage_estimated) this.estimatedUsage++;
    // Failed requests never skew latency figures (guidellm #444): only admitted requests that completed feed the
    // histograms (and so every latency threshold). Requests dsprobe cut short (step down, search done, drain) are
    // counted by outcome but feed none: a cut request's TTFT would favour the ones that happened to be fast.
    const ownAbort = isOwnAbort(s);
    if (s.outcome === 'ok') {
      if (s.first_token_us !== undefined) {
        recordUs(this.ttft, s.first_token_us - s.sent_us);
        if (!firstTokenSeenLive) this.firstToken(s.first_token_us - s.sent_us);
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

  /**
   * A 429 of a request sent in this step arrived while `later`, a higher level, was current: it shows the server
   * counting that level's requests, so it is evidence against `later`, not this step (the figures of this step
   * still count it as this step's 429).
   */
  lateLimited(later: StepRecorder): void {
    this.limitedLate++;
    later.limitedFromBelow++;
  }

  /** Keep-alive queueing facts of one sample; the wait itself is estimated in report() (it needs the baseline). */
  private foldQueueing(s: Sample): void {
    if (s.keepalives === 0) {
      if (s.first_data_us !== undefined && s.status !== undefined && s.status < 300) recordUs(this.unqueuedTtfd, s.first_data_us - s.sent_us);
      return;
    }
    this.queued++;
    // The count the server had when it queued this request: requests sent after it that it saw first count too.
    const atArrival = s.inflight_at_send + (s.overtaken_by ?? 0);
    if (this.queueMinInflight === null || atArrival < this.queueMinInflight) this.queueMinInflight = atArrival;
    const lastKa = (s.last_keepalive_us ?? s.first_keepalive_us ?? s.sent_us) - s.sent_us;
    if (s.first_data_us !== undefined && s.outcome !== 'server_error') {
      this.queuedSpans.add(s.first_data_us - s.sent_us, lastKa, keepaliveIntervalUs(s));
    } else if (s.outcome === 'timeout' || s.outcome === 'network' || s.outcome === 'server_error') {
      // Timed out (or was closed) while still queued: its wait is at least its whole life.
      this.queuedTimedOut++;
      this.queuedSpans.add(null, Math.max(lastKa, s.end_us - s.sent_us), null);
    }
  }

  private foldBreakdown(s: Sample): void {
    const k = this.row(this.byKey, String(s.key_index));
    const u = this.row(this.byUser, s.user_id ?? '');
    if (s.outcome === 'rate_limited') {
      k.rate_limited++;
      u.rate_limited++;
    } else if (s.status !== undefined && s.status < 400) {
      k.admitted++;
      u.admitted++;
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

  /** Finished requests, 429s and errors so far: what the stop rules read while a level runs (no TTFT sort). */
  counts(): { requests: number; rate_limited: number; errors: number } {
    const o = this.outcomes;
    return { requests: this.requests, rate_limited: o.rate_limited, errors: this.requests - o.ok - o.rate_limited - o.aborted };
  }

  /**
   * A first token arrived, before its request ended: the live TTFT (progress display) counts it at once, so
   * long streams show their TTFT while they run. The histograms still take it only from the finished Sample.
   * Kept in a ring of the last LIVE_TTFT_KEPT: nothing reads it with --quiet, and a long run must not grow it.
   */
  firstToken(ttftUs: number): void {
    this.liveTtft[this.liveNext] = ttftUs;
    this.liveNext = (this.liveNext + 1) % LIVE_TTFT_KEPT;
    if (this.liveCount < LIVE_TTFT_KEPT) this.liveCount++;
  }

  /** Cheap live figures for the progress display. */
  live(): { requests: number; rate_limited: number; errors: number; ttft_p50_ms: number; ttft_p99_ms: number } {
    const xs = this.liveTtft.slice(0, this.liveCount).sort();
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

  /**
   * dsprobe's own verdict on this step, frozen now (ClientRecorder.freeze): what the live search decides the level
   * on, and what the step's report says.
   */
  decideClient(): { clientBound: boolean; loopP99Ms: number; sendLagP99Ms: number } {
    const sendLag = this.verdictLag();
    this.client.freeze(sendLag);
    // The search sets aside loop-bound levels only (ClientReport.loop_bound says why).
    return { clientBound: this.client.report(sendLag).client.loop_bound === true, loopP99Ms: this.client.sustainedLoopMs, sendLagP99Ms: sendLag.p99 };
  }

  /** The step's statistics; `nowUs` closes the in-flight integral if the step has not ended. */
  report(nowUs: number): StepReport {
    const end = this.endUs ?? nowUs;
    const area = this.area + this.lastInflight * Math.max(0, end - this.lastUs);
    const durUs = Math.max(1, end - this.startUs);
    // Throughput over the time this step's requests ran (first send to last end), not the level's span: a step's
    // requests often outlive it (a search moves on once a level is decided).
    const activeUs = this.firstSendUs !== null && this.lastEndUs !== null ? Math.max(1, this.lastEndUs - this.firstSendUs) : durUs;
    const durS = activeUs / 1e6;
    // The median to the histogram's precision (3 significant digits: 0.15 ms at 150 ms).
    const baseline = this.unqueuedTtfd.totalCount ? this.unqueuedTtfd.getValueAtPercentile(50) : null;
    const kaWait = newHistogram();
    this.queuedSpans.forEach((ttfd, lastKa, iv, weight) => recordUs(kaWait, Math.max(1, ttfd === null ? lastKa : keepaliveWaitUs(ttfd, lastKa, baseline, iv)), weight));
    const n = this.requests;
    const errors = n - this.outcomes.ok - this.outcomes.rate_limited - this.outcomes.aborted;
    // Aborts other than dsprobe's own (e.g. Ctrl-C) are not server errors either.
    return {
      index: this.index,
      model: this.model,
      target_inflight: this.target,
      achieved_inflight: round2(area / durUs),
      ...this.heldPart(area, end),
      peak_inflight: this.peak,
      peak_admitted: this.peakAdmitted,
      start_ms: round3(this.startUs / 1000),
      duration_ms: round3(durUs / 1000),
      ended_by: this.endedBy,
      requests: n,
      ok: this.outcomes.ok,
      rate_limited: this.outcomes.rate_limited,
      rate_429: n ? round6(this.outcomes.rate_limited / n) : 0,
      rate_limited_late: this.limitedLate,
      rate_limited_from_below: this.limitedFromBelow,
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
      keepalive_wait_ms: percentilesMs(kaWait),
      tpot_ms: percentilesMs(this.tpot),
      send_lag_ms: percentilesMs(this.sendLag),
      ...(this.filledFromUs !== null ? { held_send_lag_ms: percentilesMs(this.heldSendLag) } : {}),
      histograms: {
        ttft: encodeHistogram(this.ttft),
        latency: encodeHistogram(this.latency),
        keepalive_wait: encodeHistogram(kaWait),
        tpot: encodeHistogram(this.tpot),
      },
      server_reported: this.serverReported,
      drain_ms: this.drainUs === null ? null : round3(this.drainUs / 1000),
      fresh_held: this.freshHeldUs !== null,
      fresh_peak_admitted: this.freshPeak,
      sent: Math.max(this.sentCount, n),
      active_ms: round3(activeUs / 1000),
      queued_timed_out: this.queuedTimedOut,
      failed_after_wait: this.waitFail.count
        ? { count: this.waitFail.count, min_ms: round3(this.waitFail.minUs / 1000), max_ms: round3(this.waitFail.maxUs / 1000) }
        : null,
      queueing_began_at: this.queueMinInflight,
      unqueued_ttfd_ms: baseline === null ? null : round3(baseline / 1000),
      by_key: [...this.byKey.values()].sort((a, b) => Number(a.id) - Number(b.id)),
      by_user: [...this.byUser.values()].sort((a, b) => b.requests - a.requests).slice(0, MAX_USER_ROWS),
      errors: [...this.errors.values()].sort((a, b) => b.count - a.count),
      ...this.client.report(this.verdictLag()),
    };
  }

  /**
   * The send lag the client-bound verdict reads: the refills' once the level was filled, every launch's when it
   * never was (a level dsprobe could not even send in full is its own).
   */
  private verdictLag(): Percentiles {
    return percentilesMs(this.filledFromUs === null ? this.sendLag : this.heldSendLag);
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const round3 = (v: number) => Math.round(v * 1000) / 1000;
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
