/**
 * Live Prometheus metrics for `run` and `watch` (`--metrics HOST:PORT`), built with prom-client on a registry
 * of their own (never the global one). Names follow Prometheus conventions: the `dsprobe_` prefix, base units
 * (seconds, requests, US dollars), `_total` counters, a `model` label. Every figure is fed from what happened on
 * the wire: samples as they finish, levels as they are decided, cap estimates from the report builder.
 *
 * This file holds no server: the CLI serves `render()` at /metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CapEstimate, LoopHealth, Sample } from '../types.js';
import { isOwnAbort } from '../measure/recorder.js';

/** Histogram buckets, seconds: 10 ms to 10 min (a keep-alive wait can reach DeepSeek's 10-minute limit). */
export const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** What a threshold check after a probe showed. */
export interface ThresholdState {
  expression: string;
  passed: boolean;
}

/** The metrics of one dsprobe process. */
export class LiveMetrics {
  readonly registry = new Registry();
  private readonly capEstimate: Gauge<'model'>;
  private readonly capLow: Gauge<'model'>;
  private readonly capHigh: Gauge<'model'>;
  private readonly capBand: Gauge<'model'>;
  private readonly capServer: Gauge<'model'>;
  private readonly capDocumented: Gauge<'model'>;
  private readonly inflightTarget: Gauge<'model'>;
  private readonly inflight: Gauge<'model'>;
  private readonly requests: Counter<'model' | 'outcome'>;
  private readonly limited: Counter<'model'>;
  private readonly ttft: Histogram<'model'>;
  private readonly latency: Histogram<'model'>;
  private readonly keepalive: Histogram<'model'>;
  private readonly cost: Counter<'model'>;
  private readonly loopDelay: Gauge<'quantile'>;
  /** Registered on its first figure: where the steal cannot be read (not Linux), no false zero is served. */
  private hostStealRatio: Gauge | null = null;
  private readonly probes: Counter<'model' | 'status'>;
  private readonly lastProbe: Gauge<'model'>;
  private readonly threshold: Gauge<'expression'>;

  constructor() {
    const registers = [this.registry];
    const g = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.capEstimate = g('dsprobe_cap_estimate', 'Estimated concurrency cap: requests in flight the account admits.', ['model']);
    this.capLow = g('dsprobe_cap_low', 'Largest in-flight level held without a 429.', ['model']);
    this.capHigh = g('dsprobe_cap_high', 'Smallest in-flight level that drew a 429.', ['model']);
    this.capBand = g('dsprobe_cap_band', 'Width of the cap bracket (high - low), requests.', ['model']);
    this.capServer = g('dsprobe_cap_server_reported', 'Concurrency the server itself quoted in its 429 messages.', ['model']);
    this.capDocumented = g('dsprobe_cap_documented', "DeepSeek's documented cap for the model.", ['model']);
    this.inflightTarget = g('dsprobe_inflight_target', 'In-flight requests dsprobe aims to hold.', ['model']);
    this.inflight = g('dsprobe_inflight', 'In-flight requests dsprobe actually holds.', ['model']);
    this.requests = new Counter({ name: 'dsprobe_requests_total', help: 'Finished requests by outcome.', labelNames: ['model', 'outcome'], registers });
    this.limited = new Counter({ name: 'dsprobe_rate_limited_total', help: 'Requests answered with HTTP 429.', labelNames: ['model'], registers });
    const h = (name: string, help: string) => new Histogram({ name, help, labelNames: ['model'], buckets: LATENCY_BUCKETS_S, registers });
    this.ttft = h('dsprobe_ttft_seconds', 'Time to first token, from send.');
    this.latency = h('dsprobe_request_duration_seconds', 'End-to-end time of successful requests, from send.');
    this.keepalive = h('dsprobe_keepalive_wait_seconds', 'Time spent receiving keep-alives before the first data (queued by the server).');
    this.cost = new Counter({ name: 'dsprobe_probe_cost_usd_total', help: 'What requests cost, US dollars, from reported (or estimated) usage.', labelNames: ['model'], registers });
    this.loopDelay = g('dsprobe_loop_delay_seconds', "dsprobe's own event-loop delay (client-side lag).", ['quantile']);
    this.probes = new Counter({ name: 'dsprobe_probes_total', help: 'Cap searches finished (watch), by cap status.', labelNames: ['model', 'status'], registers });
    this.lastProbe = g('dsprobe_last_probe_timestamp_seconds', 'Unix time of the last finished probe (watch).', ['model']);
    this.threshold = g('dsprobe_threshold_passing', 'Thresholds after the last probe: 1 passing, 0 failing.', ['expression']);
  }

  /** A finished request (after dsprobe priced it: `usd`). */
  sample(s: Sample, usd: number): void {
    const model = s.model;
    this.requests.inc({ model, outcome: s.outcome });
    if (s.status === 429) this.limited.inc({ model });
    if (usd > 0) this.cost.inc({ model }, usd);
    const ownAbort = isOwnAbort(s);
    if ((s.outcome === 'ok' || ownAbort) && s.first_token_us !== undefined) this.ttft.observe({ model }, (s.first_token_us - s.sent_us) / 1e6);
    if (s.outcome === 'ok') this.latency.observe({ model }, (s.end_us - s.sent_us) / 1e6);
    if (s.keepalives > 0 && s.first_keepalive_us !== undefined && s.first_data_us !== undefined) {
      this.keepalive.observe({ model }, (s.first_data_us - s.first_keepalive_us) / 1e6);
    }
  }

  /** The driver's live in-flight figures. */
  inflightNow(model: string, target: number, achieved: number): void {
    this.inflightTarget.set({ model }, target);
    this.inflight.set({ model }, achieved);
  }

  /** The bracket as the search stands (live) or as the report estimated it. Unknown figures are removed. */
  cap(model: string, c: Pick<CapEstimate, 'low' | 'high' | 'estimate' | 'server_reported'> & { documented?: number | null }): void {
    const set = (gauge: Gauge<'model'>, v: number | null | undefined) => (v === null || v === undefined ? gauge.remove({ model }) : gauge.set({ model }, v));
    set(this.capEstimate, c.estimate);
    set(this.capLow, c.low);
    set(this.capHigh, c.high);
    set(this.capBand, c.low !== null && c.high !== null ? c.high - c.low : null);
    set(this.capServer, c.server_reported);
    if (c.documented !== undefined) set(this.capDocumented, c.documented);
  }

  /** dsprobe's own loop delay. */
  loop(l: LoopHealth): void {
    // Rebuilt reports carry no loop figures (null): nothing is exported for them rather than a false zero.
    if (l.delay_p50_ms !== null) this.loopDelay.set({ quantile: '0.5' }, l.delay_p50_ms / 1000);
    if (l.delay_p99_ms !== null) this.loopDelay.set({ quantile: '0.99' }, l.delay_p99_ms / 1000);
    if (l.delay_max_ms !== null) this.loopDelay.set({ quantile: '1' }, l.delay_max_ms / 1000);
  }

  /** The share (0-1) of the machine's CPU time the host took over the last interval (run/host-cpu.ts). */
  hostSteal(share: number): void {
    if (!Number.isFinite(share)) return;
    this.hostStealRatio ??= new Gauge({ name: 'dsprobe_host_cpu_steal_ratio', help: "Share of the machine's CPU time the host took over the last second (CPU steal: a shared VM's hypervisor running something else; Linux).", registers: [this.registry] });
    this.hostStealRatio.set(Math.min(1, Math.max(0, share)));
  }

  /** A watch probe finished. */
  probe(model: string, status: string, unixSeconds: number): void {
    this.probes.inc({ model, status });
    this.lastProbe.set({ model }, unixSeconds);
  }

  /** Threshold results after a probe (the previous set is replaced). */
  thresholds(ts: readonly ThresholdState[]): void {
    this.threshold.reset();
    for (const t of ts) this.threshold.set({ expression: t.expression }, t.passed ? 1 : 0);
  }

  /** The text exposition format (version 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
