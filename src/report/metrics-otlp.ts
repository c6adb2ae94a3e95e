/**
 * The live metrics (report/metrics.ts, a prom-client registry) as OpenTelemetry metric data, for `--otlp`.
 * Pure: it reads the figures the registry already holds (getMetricsAsJSON) and re-shapes them; nothing is
 * measured or counted twice, so `/metrics` and an OTLP push always say the same thing.
 *
 * Naming rule: the OTLP name is the Prometheus name without the `_total` suffix of counters (OpenTelemetry
 * names carry no `_total`; a Collector's Prometheus exporter adds it back to monotonic sums). Every other name
 * is unchanged, unit words included (`dsprobe_ttft_seconds`), so a dashboard finds the same names either way.
 * The unit goes in the unit field: `s` for seconds, and UCUM annotations for counts and dollars (`{request}`,
 * `{probe}`, `{USD}`: UCUM has no currency). With these, an OpenTelemetry-to-Prometheus translation (a Collector's
 * `prometheus` exporter, with its default metric suffixes) yields exactly the names `/metrics` serves: it appends
 * `_total` to monotonic sums, a unit word only when the name lacks it (`s` -> `seconds`), and nothing for `{...}`.
 * Labels become attributes of the same names.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** The unit of every live metric, by its Prometheus name. A metric missing here is exported without a unit. */
export const OTLP_UNITS: Readonly<Record<string, string>> = {
  dsprobe_cap_estimate: '{request}',
  dsprobe_cap_low: '{request}',
  dsprobe_cap_high: '{request}',
  dsprobe_cap_band: '{request}',
  dsprobe_cap_server_reported: '{request}',
  dsprobe_cap_documented: '{request}',
  dsprobe_inflight_target: '{request}',
  dsprobe_inflight: '{request}',
  dsprobe_requests_total: '{request}',
  dsprobe_rate_limited_total: '{request}',
  dsprobe_ttft_seconds: 's',
  dsprobe_request_duration_seconds: 's',
  dsprobe_keepalive_wait_seconds: 's',
  dsprobe_probe_cost_usd_total: '{USD}',
  dsprobe_loop_delay_seconds: 's',
  // A share, 0-1. Not `1`, for the reason below: the name already says `_ratio`.
  dsprobe_host_cpu_steal_ratio: '{share}',
  dsprobe_probes_total: '{probe}',
  dsprobe_last_probe_timestamp_seconds: 's',
  // 1 passing, 0 failing. Not `1`: a translation to Prometheus would append `_ratio` to a gauge with unit 1.
  dsprobe_threshold_passing: '{threshold}',
};

/** Units whose values are whole numbers (sent as integers); seconds and dollars are not. */
const INT_UNITS = new Set(['{request}', '{probe}', '{threshold}']);

/** The OTLP name of a Prometheus metric (see the naming rule above). */
export function otlpName(promName: string, type: string): string {
  return type === 'counter' ? promName.replace(/_total$/, '') : promName;
}

/** Milliseconds since the Unix epoch as OpenTelemetry's [seconds, nanoseconds]. */
export function hrTimeOf(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** When the figures were taken: `startMs` when counting began (cumulative start), `nowMs` the collection. */
export interface OtlpTimes {
  startMs: number;
  nowMs: number;
}

/**
 * OpenTelemetry metric data for prom-client's JSON: gauges as gauges, counters as cumulative monotonic sums,
 * histograms as cumulative explicit-bucket histograms (per-bucket counts, sum, count). Metrics without a
 * series yet are left out (an unknown figure is absent, as on /metrics).
 */
export function toOtlpMetrics(families: readonly MetricObjectWithValues<MetricValue<string>>[], t: OtlpTimes): MetricData[] {
  const startTime = hrTimeOf(t.startMs);
  const endTime = hrTimeOf(t.nowMs);
  const out: MetricData[] = [];
  for (const f of families) {
    if (f.values.length === 0) continue;
    // prom-client declares `type` as a numeric enum, but its JSON carries the text ('counter', 'gauge', ...).
    const type = f.type as unknown as string;
    const unit = OTLP_UNITS[f.name] ?? '';
    const descriptor = {
      name: otlpName(f.name, type),
      description: f.help,
      unit,
      valueType: INT_UNITS.has(unit) ? ValueType.INT : ValueType.DOUBLE,
    };
    const point = <T>(labels: object, value: T): DataPoint<T> => ({ startTime, endTime, attributes: attributesOf(labels), value });
    if (type === 'gauge') {
      out.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: f.values.map((v) => point(v.labels, v.value)) });
    } else if (type === 'counter') {
      out.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: f.values.map((v) => point(v.labels, v.value)) });
    } else if (type === 'histogram') {
      out.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(f, point) });
    }
  }
  return out;
}

type Hist = DataPoint<{ buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number }>;

/** prom-client's `_bucket` (cumulative, with `le`), `_sum` and `_count` lines, grouped by the other labels. */
function histogramPoints(f: MetricObjectWithValues<MetricValue<string>>, point: <T>(labels: object, value: T) => DataPoint<T>): Hist[] {
  const series = new Map<string, { labels: Record<string, string | number>; le: [number, number][]; sum: number; count: number }>();
  for (const v of f.values as (MetricValue<string> & { metricName?: string })[]) {
    const { le, ...labels } = v.labels as Record<string, string | number>;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, le: [], sum: 0, count: 0 }));
    const kind = v.metricName?.slice(f.name.length);
    if (kind === '_bucket' && le !== undefined) s.le.push([le === '+Inf' ? Infinity : Number(le), v.value]);
    else if (kind === '_sum') s.sum = v.value;
    else if (kind === '_count') s.count = v.value;
  }
  return [...series.values()].map((s) => {
    s.le.sort((a, b) => a[0] - b[0]);
    // OTLP counts each bucket on its own (the last one above the highest boundary); Prometheus's are cumulative.
    const counts = s.le.map(([, c], i) => c - (i > 0 ? s.le[i - 1]![1] : 0));
    if (s.le.at(-1)?.[0] !== Infinity) counts.push(s.count - (s.le.at(-1)?.[1] ?? 0));
    const boundaries = s.le.map(([b]) => b).filter((b) => b !== Infinity);
    return point(s.labels, { buckets: { boundaries, counts }, sum: s.sum, count: s.count });
  });
}

function attributesOf(labels: object): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) out[k] = String(v);
  return out;
}
