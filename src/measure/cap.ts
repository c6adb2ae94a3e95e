/**
 * The cap estimate for one model, derived from its steps alone (so merged shards and re-rendered reports get the
 * same answer as the run that produced them).
 */
import type { CapEstimate, StepReport } from '../types.js';
import { DOCUMENTED_CAPS } from '../scenario/models.js';

export { DOCUMENTED_CAPS };

export interface CapOptions {
  /** Documented cap to compare against; defaults to DOCUMENTED_CAPS[model]. */
  documented?: number | null;
  /** True when the run's search stopped because re-checks kept contradicting each other. */
  unclear?: boolean;
  /** Why the run ended this model's search as unclear (a stop rule, a fatal answer): forces `unclear`, said first. */
  unclearWhy?: string;
}

/**
 * Share of a level the client must have kept in flight, time-weighted over the whole step, for a step without
 * any 429 to count as held when the server was never *seen* holding it (non-streaming responses, whose headers
 * come only at the end, never show it).
 */
export const HELD_SHARE = 0.98;

/** True when a step is evidence that its whole level was held: seen admitted at once, or kept in flight throughout. */
export function levelHeld(s: Pick<StepReport, 'peak_admitted' | 'target_inflight' | 'achieved_inflight' | 'rate_limited'>): boolean {
  if (s.rate_limited > 0) return false;
  if (s.peak_admitted >= s.target_inflight) return true;
  // Only when admissions are invisible (almost nothing seen admitted at once: non-streaming responses) does the
  // client's own in-flight count stand in. With streams, a low held count means the server never had the level
  // (requests in transit or connecting are in flight for the client but not yet counted by the server).
  return s.peak_admitted < NO_ADMISSION_SIGNAL * s.target_inflight && s.achieved_inflight >= HELD_SHARE * s.target_inflight;
}

/** Below this share of the level seen admitted at once, a step is taken to carry no admission signal. */
export const NO_ADMISSION_SIGNAL = 0.1;

/** The figure quoted by the most recent step that drew a quoted 429. */
function lastReported(steps: readonly StepReport[]): number | null {
  for (let i = steps.length - 1; i >= 0; i--) {
    const v = (steps[i] as StepReport).server_reported;
    if (v !== null) return v;
  }
  return null;
}

/** Estimates the cap from a model's steps (in run order). Pure. */
export function estimateCap(steps: readonly StepReport[], opts: CapOptions = {}): CapEstimate {
  const model = steps[0]?.model ?? '';
  const documented = opts.documented !== undefined ? opts.documented : (DOCUMENTED_CAPS[model] ?? null);
  const evidence: string[] = [];
  // A step that sent nothing new still counts when the server was seen holding requests during it
  // (a search stepping down to a level already in flight).
  const measured = steps.filter((s) => s.requests > 0 || s.peak_admitted > 0);

  // Latest verdict per level: a re-check overrides an earlier result at the same level.
  const latest = new Map<number, StepReport>();
  const verdicts = new Map<number, Set<boolean>>();
  for (const s of measured) {
    latest.set(s.target_inflight, s);
    const v = verdicts.get(s.target_inflight) ?? new Set<boolean>();
    v.add(s.rate_limited > 0);
    verdicts.set(s.target_inflight, v);
  }
  const flipped = [...verdicts.entries()].filter(([, v]) => v.size > 1).map(([l]) => l);

  let high: number | null = null;
  for (const s of latest.values()) if (s.rate_limited > 0) high = high === null ? s.target_inflight : Math.min(high, s.target_inflight);
  let low: number | null = null;
  for (const s of latest.values()) {
    if (s.rate_limited > 0) continue;
    const proven = levelHeld(s) ? s.target_inflight : s.peak_admitted;
    if (high !== null && proven >= high) continue;
    low = low === null ? proven : Math.max(low, proven);
  }

  const reported = measured.filter((s) => s.server_reported !== null).map((s) => s.server_reported as number);
  const serverReported = reported.length ? (reported[reported.length - 1] as number) : null;
  const reportedMoved = reported.length > 1 && Math.max(...reported) - Math.min(...reported) > 1;

  const heldOnLimited = Math.max(0, ...measured.filter((s) => s.rate_limited > 0).map((s) => s.peak_admitted));
  let estimate: number | null = null;
  let status: CapEstimate['status'];
  if (high === null) {
    const top = Math.max(0, ...measured.map((s) => s.target_inflight));
    const topHeld = measured.some((s) => s.target_inflight === top && levelHeld(s));
    status = topHeld || !measured.length ? 'not_reached' : 'unclear';
    if (!measured.length) evidence.push('No request was measured.');
    else if (topHeld) evidence.push(`No 429 at any level up to ${top} in flight: the cap is above what was tried.`);
    else if (!opts.unclearWhy) {
      evidence.push(
        `No 429 up to ${top} in flight, but the server was seen holding at most ${low ?? 0} at once: requests end too ` +
          'soon for a level to build up (raise request.max_tokens for longer requests), or dsprobe could not send faster.',
      );
    }
  } else if (low === null || low === 0) {
    status = 'unclear';
    evidence.push(`Even the lowest level tried (${high}) drew a 429: the cap is below it, or the account is throttled by other traffic.`);
    if (heldOnLimited > 0) estimate = heldOnLimited;
  } else {
    status = opts.unclear ? 'unclear' : 'found';
    const r429 = latest.get(high);
    evidence.push(`${low} in flight drew no 429; ${high} drew ${r429?.rate_limited ?? 0} of ${r429?.requests ?? 0} requests as 429.`);
    // Inside a coarse bracket (a ramp's steps), the server's own figure is the best estimate; failing that, the
    // most requests seen admitted at once on a 429 level (client-side, it can overcount by a few: a slot the
    // server freed is seen free a moment later).
    const reportedLast = lastReported(measured);
    if (high - low <= 1) estimate = low;
    else if (reportedLast !== null && reportedLast >= low && reportedLast < high) estimate = reportedLast;
    else estimate = heldOnLimited > low && heldOnLimited < high ? heldOnLimited : low;
    if (heldOnLimited > 0) evidence.push(`On levels that drew 429s the server held at most ${heldOnLimited} requests open at once.`);
  }
  if (serverReported !== null) {
    evidence.push(`429 messages quoted a current concurrency of ${serverReported}.`);
    if (estimate !== null && Math.abs(serverReported - estimate) > 1) {
      evidence.push(`That differs from the measured estimate ${estimate}: other traffic may share this account's cap.`);
    }
  }
  const moved = flipped.length > 0 || reportedMoved;
  if (flipped.length) evidence.push(`Level(s) ${flipped.join(', ')} drew a 429 once and none another time: the cap moved or is noisy.`);
  if (reportedMoved) evidence.push(`The server's own figure changed during the run (${Math.min(...reported)}..${Math.max(...reported)}).`);

  const queuedSteps = measured.filter((s) => s.queued > 0);
  const queueingBeganAt = queuedSteps.length ? Math.min(...queuedSteps.map((s) => s.target_inflight)) : null;
  if (queueingBeganAt !== null) evidence.push(`Keep-alive queueing began at ${queueingBeganAt} in flight.`);

  if (opts.unclearWhy) {
    status = 'unclear';
    evidence.unshift(opts.unclearWhy);
  }
  const headroom = estimate !== null && documented !== null ? estimate - documented : null;
  if (headroom !== null) {
    evidence.push(
      headroom === 0
        ? `The estimate matches the documented cap of ${documented}.`
        : `The estimate is ${Math.abs(headroom)} ${headroom < 0 ? 'below' : 'above'} the documented cap of ${documented}.`,
    );
  }
  return {
    status,
    low,
    high,
    estimate,
    server_reported: serverReported,
    documented,
    headroom,
    edge: status === 'found' ? (moved ? 'noisy' : 'cliff') : null,
    moved,
    queueing_began_at: queueingBeganAt,
    evidence,
  };
}
