/**
 * `dsprobe watch`, the pure part: one probe's report becomes one `watch.ndjson` record per model, the last
 * records give the next probe its warm start, and a day of probes is priced before the first. The CLI
 * (cli/commands/watch.ts) owns the loop, the clock, the files and the signals.
 */
import type { Report, ThresholdResult } from '../types.js';
import type { WarmStart } from '../plan/warm.js';

/** One line of watch.ndjson: what one probe found for one model. */
export interface WatchRecord {
  /** When the probe started (ISO 8601, UTC). */
  time: string;
  /** Probe number, from 1. */
  probe: number;
  model: string;
  /** Cap status of this probe's search: found | not_reached | unclear (or the run's status when it did not end). */
  status: string;
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** high - low. */
  band: number | null;
  /** The concurrency the server quoted in its 429 messages. */
  server_reported: number | null;
  documented: number | null;
  /** Requests this probe sent for this model (429s included). */
  requests: number;
  /** What this probe cost for this model, USD (server-reported usage; estimated for cut requests). */
  cost_usd: number;
  /** Everything the watch has cost so far, all models, USD. */
  cost_total_usd: number;
  /** TTFT of the reference request: one request alone in flight (the cheap probe's calibration), ms. */
  ttft_ref_ms: number | null;
  /** In flight at the reference (always 1: the calibration request is alone). */
  ref_level: number;
  /** The probe started from the previous estimate. */
  warm: boolean;
  duration_ms: number;
  /** Thresholds that failed after this probe (all models). */
  thresholds_failed: string[];
}

/** The records of one finished probe. */
export function watchRecords(
  report: Report,
  probe: { index: number; time: string; warm: ReadonlySet<string>; costBeforeUsd: number; thresholds: readonly ThresholdResult[] },
): WatchRecord[] {
  const failed = probe.thresholds.filter((t) => !t.passed).map((t) => t.expression);
  const total = probe.costBeforeUsd + report.cost.usd;
  return report.models.map((m) => {
    const ref = m.steps.find((st) => st.ended_by === 'calibration' && st.ttft_ms.count > 0);
    return {
      time: probe.time,
      probe: probe.index,
      model: m.model,
      status: report.status === 'completed' ? m.cap.status : report.status,
      estimate: m.cap.estimate,
      low: m.cap.low,
      high: m.cap.high,
      band: m.cap.low !== null && m.cap.high !== null ? m.cap.high - m.cap.low : null,
      server_reported: m.cap.server_reported,
      documented: m.cap.documented,
      requests: m.spend.requests,
      cost_usd: m.spend.usd,
      cost_total_usd: Math.round(total * 1e6) / 1e6,
      ttft_ref_ms: ref ? ref.ttft_ms.p50 : null,
      ref_level: 1,
      warm: probe.warm.has(m.model),
      duration_ms: report.duration_ms,
      thresholds_failed: failed,
    };
  });
}

/** Warm starts for the next probe: the last found estimate per model (a model whose last probe found none starts cold). */
export function warmStarts(last: readonly WatchRecord[]): Record<string, WarmStart> {
  const out: Record<string, WarmStart> = {};
  for (const r of last) if (r.status === 'found' && r.estimate !== null && r.estimate >= 1) out[r.model] = { estimate: r.estimate };
  return out;
}

/** Probes in a day at one every `everyMs`, times `perProbeUsd`. */
export function projectedUsdPerDay(perProbeUsd: number, everyMs: number): number {
  return perProbeUsd * (86_400_000 / Math.max(1, everyMs));
}
