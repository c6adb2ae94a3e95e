/**
 * dsprobe's own saturation during one step: each thread's event-loop delay, its connects, and the verdict
 * `client_bound` (dsprobe, not the server, may have set the pace). A tester that lags reports its own lag as the
 * server's latency and cannot keep a level in flight; a step where that could have happened says so.
 */
import type { ClientReport, Percentiles } from '../types.js';
import { newHistogram, percentilesMs, recordUs, type Histogram } from './hist.js';

/**
 * Above this (ms), a thread's loop delay p99 or the send lag p99 of a step could move its figures by more than the
 * noise of a real API's TTFT: the step is client-bound.
 */
export const CLIENT_LAG_LIMIT_MS = 20;

/**
 * A step whose sustained loop delay is over this many times the limit (100 ms by default) is no evidence for the
 * cap: lag that long can hold back launches and reads for longer than a level takes to decide. Between the limit
 * and this, the step is marked client-bound (its latency figures may be skewed) but its 429s and admissions stand.
 */
export const EVIDENCE_LAG_FACTOR = 5;

/**
 * A client-bound step during which the host took at least this share of the machine's CPU time (steal, run/host-cpu.ts)
 * names it in its reason: part of the lag was the host's, which more threads cannot help.
 */
export const STEAL_NOTE_SHARE = 0.05;

/**
 * From this share of the machine's CPU time taken by the host in a run, its latency figures are the host's as much as
 * the server's: `dsprobe compare` does not judge that run's latency, and the engine bench no timing target.
 */
export const STEAL_JUDGE_SHARE = 0.1;

/** Most interval samples kept per thread and step (a level of hours keeps its latest). */
const MAX_INTERVALS = 4096;

/** The median of xs (0 when empty). */
function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)] as number;
}

/** Folds one step's client-side health. */
export class ClientRecorder {
  /** The limit (ms) this step is judged by: CLIENT_LAG_LIMIT_MS, unless the run sets another (RunDeps.clientLagLimitMs). */
  limitMs = CLIENT_LAG_LIMIT_MS;
  /** Worst interval loop p99 per thread (index 0: the main thread; 1..N: prober workers). */
  private readonly loopP99: number[] = [];
  /** Every interval's loop p99 per thread: the sustained delay (their median) judges the step, not one pause. */
  private readonly intervals: number[][] = [];
  private readonly connect: Histogram = newHistogram();
  private connects = 0;
  /** Per thread: the sum and count of its intervals' busy shares. */
  private readonly busySum: number[] = [];
  private readonly busyN: number[] = [];
  private gcMaxMs = 0;
  /** dsprobe's CPU time and the wall time it was taken over (µs). */
  private cpuUs = 0;
  private wallUs = 0;
  /** The host's CPU time stolen from this machine, and all of its CPU time, over the step (kernel ticks). */
  private stealTicks = 0;
  private hostTicks = 0;
  /** The verdict the level was decided on (freeze()): later samples (drain, next level's warm-up) do not change it. */
  private frozen: { loop: number[]; why: string | null; loopBound: boolean } | null = null;

  /** One sampling interval's loop delay p99 (ms) of `thread`. */
  loop(thread: number, p99Ms: number): void {
    if (this.frozen) return;
    const cur = this.loopP99[thread];
    if (cur === undefined || p99Ms > cur) this.loopP99[thread] = p99Ms;
    const list = (this.intervals[thread] ??= []);
    if (list.length >= MAX_INTERVALS) list.shift();
    list.push(p99Ms);
  }

  /**
   * The sustained loop delay (ms): per thread the median of its intervals' p99s, the worst thread's. A single GC
   * pause or connect burst moves the worst interval, not this.
   */
  get sustainedLoopMs(): number {
    return Math.max(0, ...this.intervals.filter((l) => l !== undefined).map(median));
  }

  private loopBound(): boolean {
    return this.sustainedLoopMs > this.limitMs * EVIDENCE_LAG_FACTOR;
  }

  /**
   * One sampling interval of `thread`: the share of it its event loop was busy (0-1) and its longest GC pause (ms).
   * Informative: a thread near 1 queues every read behind others, a pause holds every read due in it; the verdict
   * stays the loop delay's, which shows both as they happen.
   */
  busy(thread: number, share: number, gcMaxMs: number): void {
    if (this.frozen || !Number.isFinite(share)) return;
    this.busySum[thread] = (this.busySum[thread] ?? 0) + share;
    this.busyN[thread] = (this.busyN[thread] ?? 0) + 1;
    if (Number.isFinite(gcMaxMs) && gcMaxMs > this.gcMaxMs) this.gcMaxMs = gcMaxMs;
  }

  /** dsprobe's process CPU time (µs, every thread) over `wallUs` of this step. */
  cpu(us: number, wallUs: number): void {
    if (this.frozen || wallUs <= 0) return;
    this.cpuUs += Math.max(0, us);
    this.wallUs += wallUs;
  }

  /** One sampling interval of the host's CPU: `steal` ticks of `total` were stolen from this machine. */
  steal(steal: number, total: number): void {
    if (this.frozen || !(total > 0) || !(steal >= 0)) return;
    this.stealTicks += steal;
    this.hostTicks += total;
  }

  /** The share of the machine's CPU time the host took over the step so far (0-1), or undefined when not read. */
  get hostSteal(): number | undefined {
    return this.hostTicks > 0 ? Math.min(1, this.stealTicks / this.hostTicks) : undefined;
  }

  /** TCP/TLS connect durations (µs) opened for or during this step. */
  connected(us: readonly number[]): void {
    for (const u of us) recordUs(this.connect, Math.max(1, u));
    this.connects += us.length;
  }

  /** Worst loop delay p99 of any thread so far (ms). */
  get worstLoopMs(): number {
    return Math.max(0, ...this.loopP99.filter((v) => v !== undefined));
  }

  /**
   * Keeps the verdict as it is now (`sendLag`: the step's send lag so far): the search decided the level on it, and
   * the report must tell the same story.
   */
  freeze(sendLag: Percentiles): void {
    if (this.frozen) return;
    const loop = Array.from(this.loopP99, (v) => Math.round((v ?? 0) * 100) / 100);
    this.frozen = { loop, why: clientBoundWhy(this.sustainedLoopMs, sendLag.p99, this.limitMs, this.hostSteal), loopBound: this.loopBound() };
  }

  report(sendLag: Percentiles): { client: ClientReport; client_bound: boolean } {
    const loop = this.frozen?.loop ?? Array.from(this.loopP99, (v) => Math.round((v ?? 0) * 100) / 100);
    const why = this.frozen ? this.frozen.why : clientBoundWhy(this.sustainedLoopMs, sendLag.p99, this.limitMs, this.hostSteal);
    const client: ClientReport = { loop_p99_ms: loop, connects: this.connects, connect_ms: percentilesMs(this.connect) };
    if (this.busyN.length) client.busy = Array.from(this.busyN, (n, t) => (n ? Math.round(((this.busySum[t] ?? 0) / n) * 100) / 100 : 0));
    if (this.wallUs > 0) client.cpu_cores = Math.round((this.cpuUs / this.wallUs) * 100) / 100;
    if (this.busyN.length) client.gc_max_ms = Math.round(this.gcMaxMs * 10) / 10;
    const steal = this.hostSteal;
    if (steal !== undefined) client.host_steal = Math.round(steal * 1000) / 1000;
    if (why) client.why = why;
    if (this.frozen ? this.frozen.loopBound : this.loopBound()) client.loop_bound = true;
    return { client, client_bound: why !== null };
  }
}

/**
 * Why a step is client-bound (its worst thread loop p99 or its send lag p99 over the limit), or null. `hostSteal`:
 * the share of the machine's CPU time the host took meanwhile, named when it is STEAL_NOTE_SHARE or more.
 */
export function clientBoundWhy(loopP99Ms: number, sendLagP99Ms: number, limitMs = CLIENT_LAG_LIMIT_MS, hostSteal?: number): string | null {
  const parts: string[] = [];
  if (loopP99Ms > limitMs) parts.push(`sustained event-loop delay p99 ${loopP99Ms.toFixed(1)} ms`);
  if (sendLagP99Ms > limitMs) parts.push(`send lag p99 ${sendLagP99Ms.toFixed(1)} ms`);
  if (!parts.length) return null;
  const steal = hostSteal !== undefined && hostSteal >= STEAL_NOTE_SHARE ? `, while the host took ${Math.round(hostSteal * 100)} % of this machine's CPU time (steal)` : '';
  return `dsprobe's own ${parts.join(' and ')} (> ${limitMs} ms)${steal}`;
}
