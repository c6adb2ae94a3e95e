/**
 * What `--otlp` says about failed pushes: one warning line at the first failure, then at most one line a minute
 * (a collector that is down for an hour is one line per minute, not one per push), and a count at the end.
 * Lines hold the endpoint without its query, the HTTP status or network error code and a short, plain status
 * text: no server body, and every configured secret scrubbed.
 */
import type { Clock } from '../time/clock.js';

/** After the first failure, at most one warning line per this long. */
export const WARN_EVERY_MS = 60_000;

/** Counts pushes and turns failures into rate-limited warning lines. */
export class ExportLog {
  private exports = 0;
  private failed = 0;
  private unreported = 0;
  private lastWarnUs = -Infinity;
  private last = '';
  private closed = false;

  constructor(
    /** The endpoint as shown (otlpShownUrl). */
    private readonly url: string,
    private readonly clock: Clock,
    private readonly warn: (line: string) => void,
    private readonly scrub: (text: string) => string,
  ) {}

  /** One push's result (`error` as the SDK gave it). Ignored after close(). */
  result(ok: boolean, error?: unknown): void {
    if (this.closed) return;
    this.exports++;
    if (ok) return;
    this.failed++;
    this.last = describeExportError(error, this.scrub);
    const now = this.clock.nowUs();
    if (this.failed === 1) {
      this.warn(`otlp: export to ${this.url} failed (${this.last}); the run goes on, later failures are summarised at most once a minute`);
      this.lastWarnUs = now;
    } else if (now - this.lastWarnUs >= WARN_EVERY_MS * 1000) {
      this.warn(`otlp: ${this.unreported + 1} more export(s) failed (last: ${this.last})`);
      this.lastWarnUs = now;
      this.unreported = 0;
    } else {
      this.unreported++;
    }
  }

  /** The end: a count when more than the first failure happened; later results are not news. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failed > 1) this.warn(`otlp: ${this.failed} of ${this.exports} export(s) to ${this.url} failed (last: ${this.last})`);
  }
}

/** One short line for an export error: the HTTP status and its text, or the network error's code. */
export function describeExportError(error: unknown, scrub: (s: string) => string): string {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  let text: string;
  if (typeof e?.code === 'number') text = `HTTP ${e.code}${e.message ? ` ${String(e.message)}` : ''}`;
  else if (typeof e?.code === 'string') text = e.code;
  else text = String(e?.message ?? error ?? 'unknown error');
  // A status text comes from the server: one short, plain line, secrets scrubbed.
  return scrub(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 160));
}
