/**
 * `--otlp URL [--otlp-interval D]`: the options, checked before anything is sent, and the header values the
 * OpenTelemetry SDK will send (secrets to scrub). No SDK here: otlp-push.ts is loaded only when `--otlp` is given.
 */
import { usageError } from '../errors.js';
import { durationOption } from './duration-option.js';

/** Export deadline when neither OTEL_EXPORTER_OTLP_METRICS_TIMEOUT nor OTEL_EXPORTER_OTLP_TIMEOUT is set. */
export const DEFAULT_OTLP_TIMEOUT_MS = 5000;
/** Default `--otlp-interval`. */
export const DEFAULT_OTLP_INTERVAL = '10s';

/** Checked `--otlp` options. */
export interface OtlpOptions {
  url: string;
  intervalMs: number;
  /** Deadline of one export (and of the final flush), at most the interval. */
  timeoutMs: number;
}

/**
 * Checks `--otlp URL [--otlp-interval D]` before anything is sent (usage error, exit 2); null without `--otlp`.
 * The URL is the full metrics endpoint; credentials belong in OTEL_EXPORTER_OTLP_HEADERS, not in the URL.
 */
export function parseOtlpOptions(url: string | undefined, interval: string | undefined, env: Readonly<Record<string, string | undefined>>): OtlpOptions | null {
  if (url === undefined) {
    if (interval !== undefined) throw usageError('--otlp-interval needs --otlp URL', [{ path: '--otlp-interval', message: 'given without --otlp', hint: 'add --otlp http://127.0.0.1:4318/v1/metrics' }]);
    return null;
  }
  const hint = 'the full metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics (an OpenTelemetry Collector\'s OTLP/HTTP receiver)';
  // A URL with an `@` or a query may carry a credential: it is not echoed.
  const shown = /[@?#]/.test(url) ? '' : ` (got ${JSON.stringify(url)})`;
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  const bad = (message: string) => usageError(`--otlp: ${message}${shown}`, [{ path: '--otlp', message, hint }]);
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw bad('expected an http:// or https:// URL');
  if (u.username || u.password) throw bad('credentials in the URL are not accepted: put them in OTEL_EXPORTER_OTLP_HEADERS');
  if (u.pathname === '/' || u.pathname === '') throw bad('expected the full metrics endpoint, with its path (usually /v1/metrics)');
  const intervalMs = durationOption('--otlp-interval', interval ?? DEFAULT_OTLP_INTERVAL, 'e.g. --otlp-interval 10s');
  const fromEnv = Number(env['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT'] ?? env['OTEL_EXPORTER_OTLP_TIMEOUT']);
  const timeoutMs = Math.min(intervalMs, Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_OTLP_TIMEOUT_MS);
  return { url: u.href, intervalMs, timeoutMs };
}

/** Header values of OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_METRICS_HEADERS (`k=v,k2=v2`), to scrub. */
export function otlpHeaderSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const raw of [env['OTEL_EXPORTER_OTLP_HEADERS'], env['OTEL_EXPORTER_OTLP_METRICS_HEADERS']]) {
    for (const pair of (raw ?? '').split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const v = pair.slice(eq + 1).trim();
      out.push(v);
      try {
        out.push(decodeURIComponent(v));
      } catch {
        // Not percent-encoded: the raw form above is what the SDK sends.
      }
    }
  }
  return out;
}

/** The endpoint as printed: without its query or fragment, which may carry a token (`?…` says one was there). */
export function otlpShownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
