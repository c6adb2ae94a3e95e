/**
 * The cap estimate for one model, derived from its steps alone (so merged shards and re-rendered reports get the
 * same answer as the run that produced them).
 */
import type { CapDecision, CapEstimate, StepReport } from '../types.js';
import { clientBoundReason, noiseMargin, walk, type CapMove, type LevelEvidence } from '../evidence.js';
import { explainCause } from './cause.js';
import { DOCUMENTED_CAPS } from '../models.js';

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
export function levelHeld(
  s: Pick<StepReport, 'peak_admitted' | 'target_inflight' | 'achieved_inflight' | 'rate_limited' | 'rate_limited_late' | 'rate_limited_from_below' | 'fresh_held' | 'fresh_peak_admitted' | 'sent'>,
): boolean {
  if (drew429(s)) return false;
  if (s.fresh_held !== undefined) {
    // Fresh evidence only (reports since v1.x record it): new requests admitted while the whole level was held.
    if (s.fresh_held) return true;
    if (!s.sent) return false;
    return (s.fresh_peak_admitted ?? 0) < NO_ADMISSION_SIGNAL * s.target_inflight && s.achieved_inflight >= HELD_SHARE * s.target_inflight;
  }
  if (s.peak_admitted >= s.target_inflight) return true;
  // Only when admissions are invisible (almost nothing seen admitted at once: non-streaming responses) does the
  // client's own in-flight count stand in. With streams, a low held count means the server never had the level
  // (requests in transit or connecting are in flight for the client but not yet counted by the server).
  return s.peak_admitted < NO_ADMISSION_SIGNAL * s.target_inflight && s.achieved_inflight >= HELD_SHARE * s.target_inflight;
}

/**
 * The 429s that are evidence against a step's level: its own, less those answered once a higher level was
 * current (evidence against that level), plus those of lower steps answered while it was current.
 */
export function evidence429(s: Pick<StepReport, 'rate_limited' | 'rate_limited_late' | 'rate_limited_from_below'>): number {
  return s.rate_limited - (s.rate_limited_late ?? 0) + (s.rate_limited_from_below ?? 0);
}

/** True when the step is evidence that its level is over the cap (see evidence429). */
export function drew429(s: Pick<StepReport, 'rate_limited' | 'rate_limited_late' | 'rate_limited_from_below'>): boolean {
  return evidence429(s) > 0;
}

/** Below this share of the level seen admitted at once, a step is taken to carry no admission signal. */
export const NO_ADMISSION_SIGNAL = 0.1;


/** True when a step sent requests of its own (fresh evidence), or is an older report without the fresh fields. */
function measuredStep(s: StepReport): boolean {
  if (s.fresh_held === undefined) return s.requests > 0 || s.peak_admitted > 0;
  return (s.sent ?? s.requests) > 0;
}

function evidenceOf(s: StepReport): LevelEvidence {
  return { level: s.target_inflight, drew429: drew429(s), confirmed: levelHeld(s), peakAdmitted: s.fresh_peak_admitted ?? s.peak_admitted };
}

/** A level proven clean: held whole, and no 429 at it. */
function provenClean(s: StepReport): boolean {
  return !drew429(s) && levelHeld(s);
}

/**
 * The most the server was seen admitting at once in some steps: clean levels, and fresh admissions on any level.
 * Undefined when they show no admission at all (a last level refused before any request sent at it was admitted):
 * that says nothing of the cap, not that it is 0 (read as "dropped to ~0" against an independent noisy server).
 */
function seenCap(steps: readonly StepReport[]): number | undefined {
  const seen = Math.max(0, ...steps.map((s) => (provenClean(s) ? s.target_inflight : (s.fresh_peak_admitted ?? s.peak_admitted))));
  return seen > 0 ? seen : undefined;
}

/** The highest level proven clean in some steps, or 0. */
function provenTop(steps: readonly StepReport[]): number {
  return Math.max(0, ...steps.filter(provenClean).map((s) => s.target_inflight));
}

/** A move as the report shows it: the caps seen before and after, and whether its upper end is only what was held. */
interface ShownMove extends CapMove {
  held: boolean;
}

/**
 * A change within the noise margin of the level reads as a noisy edge. One whose upper end is only the most the
 * server once held at levels that drew 429s (above every level proven clean beside it) is given twice the margin:
 * that figure is the top of the server's admission draws, so a noisy edge refuses well below it as a matter of
 * course (an independent server drawing its limit from 45..55 per admission held 55, then refused at 47: read as a
 * cap that kept moving; or was clean at 47 and read as a rise to 55). A level proven clean is no draw.
 */
function isNoise(m: ShownMove): boolean {
  return Math.abs(m.from - m.to) <= (m.held ? 2 : 1) * noiseMargin(Math.max(m.from, m.to));
}

/** Estimates the cap from a model's steps (in run order). Pure. */
export function estimateCap(steps: readonly StepReport[], opts: CapOptions = {}): CapEstimate {
  const model = steps[0]?.model ?? '';
  const documented = opts.documented !== undefined ? opts.documented : (DOCUMENTED_CAPS[model] ?? null);
  const evidence: string[] = [];
  const sent = steps.filter(measuredStep);
  // A level where dsprobe itself was the bottleneck is no evidence either way (never decides a cap).
  const measured = sent.filter((s) => !s.client?.loop_bound);
  const clientBound = sent.filter((s) => s.client?.loop_bound);
  const history: CapDecision[] = sent.map((s) => ({
    t_ms: round1(s.start_ms + s.duration_ms),
    level: s.target_inflight,
    verdict: s.client?.loop_bound ? 'undecided' : drew429(s) ? 'over' : levelHeld(s) ? 'clean' : 'undecided',
  }));
  // The client-bound step to name, if the evidence ends below it: the highest such level.
  const boundAbove = (level: number) =>
    clientBound.filter((s) => s.target_inflight > level).sort((a, b) => b.target_inflight - a.target_inflight)[0];
  const boundWhy = (s: StepReport) => clientBoundReason(s.target_inflight, Math.max(0, ...(s.client?.loop_p99_ms ?? [])));
  const { low, high, moves: rawMoves } = walk(measured.map(evidenceOf));
  // The evidence since the last move: the cap as it is at the end.
  const lastMove = rawMoves[rawMoves.length - 1];
  const epoch = lastMove ? measured.slice(lastMove.at) : measured;
  const heldOnLimited = Math.max(0, ...epoch.filter((s) => drew429(s)).map((s) => s.fresh_peak_admitted ?? s.peak_admitted));
  const reportedEpoch = epoch.filter((s) => s.server_reported !== null).map((s) => s.server_reported as number);
  const reportedAll = measured.filter((s) => s.server_reported !== null).map((s) => s.server_reported as number);
  const serverReported = reportedAll.length ? (reportedAll[reportedAll.length - 1] as number) : null;
  const reportedLast = reportedEpoch.length ? (reportedEpoch[reportedEpoch.length - 1] as number) : null;

  let estimate: number | null = null;
  let status: CapEstimate['status'];
  let unclearReason: string | null = null;
  const levelsSeen = epoch.map((s) => s.target_inflight);
  const bracketAt = evidence.length;
  if (high === null) {
    const top = Math.max(0, ...levelsSeen);
    const topStep = epoch.filter((s) => s.target_inflight === top);
    const topHeld = topStep.some((s) => levelHeld(s));
    const bound = boundAbove(measured.length ? top : 0);
    status = bound ? 'unclear' : topHeld || !measured.length ? 'not_reached' : 'unclear';
    if (bound) {
      // Levels above the evidence were client-bound: the cap may be anywhere above `top`, and nothing says where.
      unclearReason = 'client_bound';
      evidence.push(`unclear: ${boundWhy(bound)}.${measured.length ? ` Up to ${top} in flight the evidence shows no 429.` : ''}`);
    } else if (!measured.length) evidence.push('No request was measured.');
    else if (topHeld) evidence.push(`No 429 at any level up to ${top} in flight: the cap is above what was tried.`);
    else {
      unclearReason = 'not_held';
      // Raising max_tokens helps only when requests ended too soon by finishing; a level the client kept in flight,
      // or whose requests mostly failed (503s, timeouts), says something else.
      const clientHeld = topStep.some((s) => s.achieved_inflight >= HELD_SHARE * s.target_inflight || s.error_rate >= 0.5);
      // A search ended by a stop rule or a fatal answer says why first; the max_tokens advice would mislead.
      if (!opts.unclearWhy) evidence.push(
        clientHeld
          ? `No 429 up to ${top} in flight, and dsprobe kept that level in flight, but the server admitted at most ${low ?? 0} ` +
              'at once: the rest waited without an answer (a queue in front of the server?), so the level is not proven clean.'
          : `No 429 up to ${top} in flight, but the server was seen holding at most ${low ?? 0} at once: requests end too ` +
              'soon for a level to build up (raise request.max_tokens for longer requests), or dsprobe could not send faster.',
      );
    }
  } else if (low === null || low === 0) {
    status = 'unclear';
    unclearReason = 'below_lowest';
    evidence.push(`Even the lowest level tried since the last change (${high}) drew a 429: the cap is below it, or the account is throttled by other traffic.`);
    const bound = clientBound.filter((s) => s.target_inflight < high).sort((a, b) => b.target_inflight - a.target_inflight)[0];
    if (bound) {
      unclearReason = 'client_bound';
      evidence.push(`${boundWhy(bound)}.`);
    }
    if (heldOnLimited > 0) estimate = heldOnLimited;
  } else {
    status = 'found';
    const r429 = [...epoch].reverse().find((s) => s.target_inflight === high);
    evidence.push(`${low} in flight drew no 429; ${high} drew ${r429 ? evidence429(r429) : 0} of ${r429?.requests ?? 0} requests as 429 (a level counts as clean only when requests sent at it were admitted with the whole level held).`);
    // Inside a coarse bracket the server's figure is the best estimate, but only when fresh evidence agrees
    // (quoted after the cap's last move and inside the bracket); failing that, what the server held on a 429 level.
    if (high - low <= 1) estimate = low;
    else if (reportedLast !== null && reportedLast >= low && reportedLast < high) estimate = reportedLast;
    else estimate = heldOnLimited > low && heldOnLimited < high ? heldOnLimited : low;
    if (heldOnLimited > 0) evidence.push(`On levels that drew 429s the server held at most ${heldOnLimited} requests open at once.`);
  }

  const bracketEnd = evidence.length;
  const late = measured.filter((s) => (s.rate_limited_late ?? 0) > 0);
  if (late.length) {
    const n = late.reduce((a, s) => a + (s.rate_limited_late ?? 0), 0);
    evidence.push(
      `${n} 429(s) of requests sent at ${late.map((s) => s.target_inflight).join(', ')} in flight arrived once a higher level was current: ` +
        'they count against that level (the server was counting its requests), not the level they were sent at.',
    );
  }
  // Moves and noise: each contradiction splits the run into epochs; the cap an epoch showed is the most the server
  // was seen admitting at once in it (the final epoch: the estimate). A small change reads as a noisy edge, a
  // large one as a move.
  const cuts = [0, ...rawMoves.map((m) => m.at), measured.length];
  const shown = cuts.slice(0, -1).map((c, i) => seenCap(measured.slice(c, cuts[i + 1])));
  if (estimate !== null && shown.length) shown[shown.length - 1] = estimate;
  const moves: ShownMove[] = rawMoves.map((m, i) => {
    const from = shown[i] ?? m.from;
    const to = shown[i + 1] ?? m.to;
    // The upper end: the cap before a drop, after a rise; held when above every level proven clean in its stretch.
    const [upper, j] = m.direction === 'drop' ? [from, i] : [to, i + 1];
    return { ...m, from, to, held: upper > provenTop(measured.slice(cuts[j], cuts[j + 1])) };
  });
  const noisyMoves = moves.filter(isNoise);
  const bigMoves = moves.filter((m) => !isNoise(m));
  const moved = moves.length > 0;
  // Keeps moving: the search gave up on contradictions, or the cap moved more than twice (a drop then a rise is two).
  const moving = bigMoves.length > 0 && (opts.unclear === true || bigMoves.length > 2);
  // The edge as it is at the end: the noise after the last large move (noise before it was at an edge since left).
  const lastBig = bigMoves[bigMoves.length - 1];
  const finalNoise = lastBig ? noisyMoves.filter((m) => m.at > lastBig.at) : noisyMoves;
  const finalEpoch = lastBig ? measured.slice(lastBig.at) : measured;
  const noisy = !moving && finalNoise.length > 0;
  let band: [number, number] | null = null;
  let bandRate: number | null = null;
  const tOf = (m: CapMove) => {
    const s = measured[m.at];
    return s ? round1(s.start_ms + s.duration_ms) : 0;
  };
  for (const m of bigMoves) {
    evidence.push(
      `The cap ${m.to < m.from ? 'dropped' : 'rose'} from ~${m.from} to ~${m.to} at t=${(tOf(m) / 1000).toFixed(1)} s ` +
        `(level ${measured[m.at]?.target_inflight} ${m.direction === 'drop' ? 'drew a 429 after the server had admitted more at once' : 'was clean after a level at or below it had drawn a 429'}).`,
    );
  }
  if (moving) {
    status = 'unclear';
    unclearReason = 'moving';
    const edges = moves.flatMap((m) => [m.from, m.to]);
    estimate = null;
    evidence.push(`unclear: moving. The cap kept moving during the run, between ${Math.min(...edges)} and ${Math.max(...edges)}: no single figure is true.`);
  } else if (noisy) {
    const involved = finalNoise.flatMap((m) => [m.from, m.to, measured[m.at]?.target_inflight ?? m.to]);
    const over = finalEpoch.filter((s) => drew429(s)).map((s) => s.target_inflight);
    const clean = finalEpoch.filter(provenClean).map((s) => s.target_inflight);
    const lo = Math.min(...involved, ...over.filter((l) => l <= Math.max(...involved)));
    const hi = Math.max(...involved, ...clean.filter((l) => l >= Math.min(...involved)));
    band = [lo, hi];
    const inBand = finalEpoch.filter((s) => s.target_inflight >= lo && s.target_inflight <= hi);
    const req = inBand.reduce((a, s) => a + s.requests, 0);
    bandRate = req ? round4(inBand.reduce((a, s) => a + s.rate_limited, 0) / req) : null;
    evidence.push(
      `edge: noisy. Admission is uncertain between ${lo} and ${hi} in flight (levels there drew a 429 one time and none ` +
        `another${bandRate !== null ? `; ${(bandRate * 100).toFixed(1)} % of requests there drew 429s` : ''}): no exact edge.`,
    );
    // Never an exact edge the data contradicts: the estimate is just below the band (no level under `lo` ever drew a
    // 429), or the highest clean level when the band starts at 1.
    const below = measured.filter((s) => s.target_inflight < lo && levelHeld(s)).map((s) => s.target_inflight);
    estimate = lo > 1 ? lo - 1 : below.length ? Math.max(...below) : null;
    // The bracket's sentences describe one epoch of a noisy edge: replaced by the band.
    evidence.splice(bracketAt, bracketEnd - bracketAt);
    status = estimate !== null ? 'found' : 'unclear';
    unclearReason = estimate !== null ? null : 'noisy';
  } else if (opts.unclear && !moves.length) {
    status = 'unclear';
    unclearReason = unclearReason ?? 'search';
  }
  if (lastMove && !moving && estimate !== null) {
    evidence.push(`The estimate is the cap at the end of the run (evidence after t=${(tOf(lastMove) / 1000).toFixed(1)} s).`);
  }

  let serverCounts: string | null = null;
  if (serverReported !== null) {
    serverCounts =
      "the server's own count of this account's requests open when it refused one (requests sent earlier and still " +
      'open count, and so does other traffic on the account): evidence beside the estimate, not the cap';
    evidence.push(`429 messages quoted a current concurrency of ${serverReported} (${reportedAll.length > 1 ? 'last of ' + reportedAll.length + ' steps' : 'one step'}).`);
  }
  const cause = explainCause(measured, { estimate, serverReported, status });
  evidence.push(...cause.evidence);

  const queuedSteps = measured.filter((s) => s.queued > 0);
  const onsets = queuedSteps.map((s) => s.queueing_began_at ?? s.target_inflight);
  const queueingBeganAt = onsets.length ? Math.min(...onsets) : null;
  if (queueingBeganAt !== null) evidence.push(`Keep-alive queueing began at ${queueingBeganAt} in flight (the lowest in-flight count at send of a request that got keep-alives).`);

  if (opts.unclearWhy) {
    status = 'unclear';
    unclearReason = 'stopped';
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
    edge: noisy ? 'noisy' : status === 'found' ? 'cliff' : null,
    moved,
    queueing_began_at: queueingBeganAt,
    evidence,
    history,
    band,
    band_429_rate: bandRate,
    moves: moves.map((m) => ({ t_ms: tOf(m), from: m.from, to: m.to, direction: m.to < m.from ? 'drop' : m.to > m.from ? 'rise' : m.direction })),
    unclear_reason: status === 'unclear' ? (unclearReason ?? 'search') : null,
    server_reported_counts: serverCounts,
    cause: cause.cause,
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
