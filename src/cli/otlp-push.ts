/**
 * `--otlp URL` (`run` and `watch`): pushes the live metrics over OTLP/HTTP (JSON) with the OpenTelemetry JS SDK.
 * Loaded only when `--otlp` is given (the SDK costs startup time). The figures are the LiveMetrics registry's, the same that `--metrics` serves: a MetricProducer hands the SDK's
 * periodic reader their OTLP shape (report/metrics-otlp.ts), so nothing is measured twice.
 *
 * A collector that is down, slow or refusing never stalls or fails a run: every export has a deadline, the
 * final flush too, and failures become rate-limited warning lines (the first at once, then at most one a
 * minute, and a count at the end). Header values from OTEL_EXPORTER_OTLP_HEADERS are scrubbed from them.
 */
import { resourceFromAttributes, envDetector, detectResources } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricProducer, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { makeScrubber } from '../secrets.js';
import { VERSION } from '../version.js';
import { toOtlpMetrics } from '../report/metrics-otlp.js';
import type { LiveMetrics } from '../report/metrics.js';
import { otlpHeaderSecrets, otlpShownUrl, type OtlpOptions } from './otlp-options.js';
import { ExportLog } from './otlp-warnings.js';
import { monotonicClock, type Clock } from '../time/clock.js';

/** A running push. */
export interface OtlpPush {
  /** Collects and exports now (after a watch probe); never rejects, returns by the deadline. */
  flush(): Promise<void>;
  /** The final export, then shutdown; never rejects, returns by the deadline. */
  close(): Promise<void>;
}

/** Starts pushing `live` every interval; warnings go to `warn` (one line each, no newline). */
export function startOtlpPush(o: OtlpOptions, live: LiveMetrics, env: Readonly<Record<string, string | undefined>>, warn: (line: string) => void, clock: Clock = monotonicClock()): OtlpPush {
  const startMs = Date.now();
  const log = new ExportLog(otlpShownUrl(o.url), clock, warn, makeScrubber(otlpHeaderSecrets(env)).scrub);
  const onResult = (ok: boolean, error?: unknown) => log.result(ok, error);
  // service.name and service.version; OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME add to (or override) them.
  const resource = resourceFromAttributes({ 'service.name': 'dsprobe', 'service.version': VERSION }).merge(detectResources({ detectors: [envDetector] }));
  const exporter = new ReportingExporter(new OTLPMetricExporter({ url: o.url, timeoutMillis: o.timeoutMs }), onResult);
  const producer: MetricProducer = {
    async collect() {
      const families = await live.registry.getMetricsAsJSON();
      const metrics = toOtlpMetrics(families, { startMs, nowMs: Date.now() });
      return { resourceMetrics: { resource, scopeMetrics: metrics.length ? [{ scope: { name: 'dsprobe', version: VERSION }, metrics }] : [] }, errors: [] };
    },
  };
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: o.intervalMs, exportTimeoutMillis: o.timeoutMs, metricProducers: [producer] });
  const provider = new MeterProvider({ resource, readers: [reader] });
  // Waits for `work` at most the deadline (and a little): a hanging collector never holds up a probe or the exit.
  const bounded = async (work: Promise<void>): Promise<'done' | 'late'> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), o.timeoutMs + 250);
      timer.unref?.();
    });
    const r = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), late]);
    clearTimeout(timer);
    return r;
  };
  let closing = false;
  return {
    async flush() {
      // A late push still reports its own result (the exporter's deadline); nothing to count here.
      if (!closing) await bounded(provider.forceFlush());
    },
    async close() {
      if (closing) return;
      closing = true;
      // shutdown() exports once more with the final figures, then stops the interval.
      // A final push not answered by now is counted here: its own result would come after the summary.
      if ((await bounded(provider.shutdown())) === 'late') onResult(false, new Error(`no answer within ${o.timeoutMs} ms`));
      log.close();
    },
  };
}

/** Wraps the OTLP exporter to see every export's result (the periodic reader keeps them to itself). */
class ReportingExporter implements PushMetricExporter {
  constructor(
    private readonly inner: OTLPMetricExporter,
    private readonly onResult: (ok: boolean, error: unknown) => void,
  ) {}
  export(metrics: ResourceMetrics, done: Parameters<PushMetricExporter['export']>[1]): void {
    this.inner.export(metrics, (r) => {
      this.onResult(r.code === 0, r.error);
      done(r);
    });
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  selectAggregationTemporality = (t: Parameters<NonNullable<PushMetricExporter['selectAggregationTemporality']>>[0]) => this.inner.selectAggregationTemporality(t);
}
