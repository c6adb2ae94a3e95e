/**
 * `--otlp URL` (`run` and `watch`), loaded only when asked for (the SDK costs startup time): pushes the live metrics over OTLP/HTTP (JSON) with the OpenTelemetry JS SDK.
 * The figures are the LiveMetrics registry's, the same that `--metrics` serves: a MetricProducer hands the SDK's
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
import { otlpHeaderSecrets, type OtlpOptions } from './otlp-options.js';

/** After the first failure, at most one warning line per this long. */
const WARN_EVERY_MS = 60_000;

/** A running push. */
export interface OtlpPush {
  /** Collects and exports now (after a watch probe); never rejects, returns by the deadline. */
  flush(): Promise<void>;
  /** The final export, then shutdown; never rejects, returns by the deadline. */
  close(): Promise<void>;
}

/** Starts pushing `live` every interval; warnings go to `warn` (one line each, no newline). */
export function startOtlpPush(o: OtlpOptions, live: LiveMetrics, env: Readonly<Record<string, string | undefined>>, warn: (line: string) => void): OtlpPush {
  const startMs = Date.now();
  const scrub = makeScrubber(otlpHeaderSecrets(env)).scrub;
  const failures = { total: 0, exports: 0, unreported: 0, lastWarnMs: -Infinity, last: '' };
  let closed = false;
  const onResult = (ok: boolean, error: unknown) => {
    // After close() has summarised, a late answer of an abandoned export is not news.
    if (closed) return;
    failures.exports++;
    if (ok) return;
    failures.total++;
    failures.last = describe(error, scrub);
    const now = Date.now();
    if (failures.total === 1) {
      warn(`otlp: export to ${o.url} failed (${failures.last}); the run goes on, later failures are summarised at most once a minute`);
      failures.lastWarnMs = now;
    } else if (now - failures.lastWarnMs >= WARN_EVERY_MS) {
      warn(`otlp: ${failures.unreported + 1} more export(s) failed (last: ${failures.last})`);
      failures.lastWarnMs = now;
      failures.unreported = 0;
    } else {
      failures.unreported++;
    }
  };
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
  // An export that outlives its deadline is counted as failed here (the SDK's own timeout reports nowhere).
  const bounded = async (work: Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), o.timeoutMs + 250);
      timer.unref?.();
    });
    const r = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), late]);
    clearTimeout(timer);
    if (r === 'late') onResult(false, new Error(`no answer within ${o.timeoutMs} ms`));
  };
  let closing = false;
  return {
    flush: () => (closing ? Promise.resolve() : bounded(provider.forceFlush())),
    async close() {
      if (closing) return;
      closing = true;
      // shutdown() exports once more with the final figures, then stops the interval.
      await bounded(provider.shutdown());
      closed = true;
      if (failures.total > 1) {
        warn(`otlp: ${failures.total} of ${failures.exports} export(s) to ${o.url} failed (last: ${failures.last})`);
      }
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

/** One short line for an export error: HTTP status or the network error's code; no server body, no secret. */
function describe(error: unknown, scrub: (s: string) => string): string {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  let text: string;
  if (typeof e?.code === 'number') text = `HTTP ${e.code}${e.message ? ` ${String(e.message)}` : ''}`;
  else if (typeof e?.code === 'string') text = e.code;
  else text = String(e?.message ?? error ?? 'unknown error');
  // Server text is printed only as one short, plain line.
  return scrub(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 160));
}
