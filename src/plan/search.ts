/**
 * The adaptive cap search, as a pure function of what each level showed (ARCHITECTURE: plan before you run;
 * the search is `next(history)`).
 *
 * A provider cap is a cliff, not a knee: over the cap the server answers 429 at admission, at once. So one level
 * is decided as soon as either (a) a 429 arrives (the level is over the cap) or (b) the server has been seen
 * holding the whole level at once (every request of the level admitted and still open). Long, cheap requests make
 * (b) quick; a 429 costs nothing. The search therefore:
 *   1. climbs geometrically (start, start·growth, ...) until a level draws a 429;
 *   2. guesses the cap from the most requests the server held open at once on a 429 level (that number *is*
 *      the cap when requests are long enough), and checks guess and guess+1;
 *   3. falls back to bisection between the highest clean level and the lowest 429 level;
 *   4. re-checks both sides of the boundary once, to tell a cliff from noise and to notice a cap that moved.
 */

import { clientBoundReason, walk, type CapMove, type LevelEvidence } from '../evidence.js';

export { walk, type CapMove };

/** What one held level showed. */
export interface LevelResult extends LevelEvidence {
  level: number;
  /** At least one request sent at this level got a 429. */
  drew429: boolean;
  /** The server was seen holding the whole level (admitted-and-open reached `level`). */
  confirmed: boolean;
  /** Most requests admitted (status received, not 429) and open at once during the level. */
  peakAdmitted: number;
  /** This level was a re-check of an earlier decision. */
  recheck?: boolean;
  /** When the level was decided (run clock, µs). */
  t_us?: number;
  /** With `clientBound`: dsprobe's worst thread loop delay p99 and its send lag p99 at this level (ms). */
  clientLoopP99Ms?: number;
  clientSendLagP99Ms?: number;
}

export interface SearchConfig {
  start: number;
  max: number;
  growth: number;
  /** Stop when high - low <= precision. */
  precision: number;
  recheck: boolean;
  /** Re-checks that may contradict earlier results before the search gives up as unclear. */
  maxContradictions?: number;
}

export type SearchDecision =
  | { done: false; level: number; recheck: boolean; why: string }
  | { done: true; status: 'found' | 'not_reached' | 'unclear'; low: number | null; high: number | null; moved: boolean; why: string };

/** The bracket the evidence since the cap's last move supports (see walk()). */
export function bracket(history: readonly LevelResult[]): { low: number | null; high: number | null } {
  const { low, high } = walk(history);
  return { low, high };
}

/** Counts results that contradicted the bracket of the evidence before them (moves of the cap, or noise). */
export function contradictions(history: readonly LevelResult[]): number {
  return walk(history).moves.length;
}

/** Picks the next level to hold, or says the search is over. Pure. */
export function nextSearchStep(history: readonly LevelResult[], cfg: SearchConfig): SearchDecision {
  const max = Math.max(1, Math.floor(cfg.max));
  const precision = Math.max(1, Math.floor(cfg.precision));
  if (history.length === 0) {
    return { done: false, level: clamp(Math.floor(cfg.start), 1, max), recheck: false, why: 'first level' };
  }
  const { low, high, moves } = walk(history);
  const flips = moves.length;
  const moved = flips > 0;
  // A level where dsprobe was the bottleneck is no evidence: try it once more, and if the client stays the
  // bottleneck, stop (climbing higher would only load the client more).
  const last = history[history.length - 1] as LevelResult;
  if (last.clientBound) {
    let tries = 0;
    for (let i = history.length - 1; i >= 0 && history[i]?.clientBound && history[i]?.level === last.level; i--) tries++;
    if (tries >= CLIENT_BOUND_TRIES) {
      const why = clientBoundReason(last.level, last.clientLoopP99Ms ?? 0);
      return { done: true, status: 'unclear', low, high, moved, why };
    }
    return { done: false, level: last.level, recheck: last.recheck ?? false, why: `dsprobe was the bottleneck at level ${last.level}: trying it once more` };
  }
  const evidence = history.filter((r) => !r.clientBound);
  // Only evidence since the last move guides the next guesses: levels tried before it may be tried again.
  const epoch = (moves.length ? history.slice((moves[moves.length - 1] as CapMove).at) : history).filter((r) => !r.clientBound);
  const tried = new Set(epoch.map((r) => r.level));
  if (flips > (cfg.maxContradictions ?? 2)) {
    return { done: true, status: 'unclear', low, high, moved: true, why: `the cap kept moving (or its edge is noisy): ${flips} results contradicted earlier ones` };
  }

  if (high === null) {
    const top = Math.max(...evidence.map((r) => r.level));
    if (top >= max) {
      const held = evidence.some((r) => r.level === top && r.confirmed);
      return held
        ? { done: true, status: 'not_reached', low, high, moved, why: `no 429 up to the maximum level ${max}` }
        : { done: true, status: 'unclear', low, high, moved, why: `no 429 up to ${max}, but that level was never held at once` };
    }
    const next = clamp(Math.max(top + 1, Math.ceil(top * cfg.growth)), 1, max);
    return { done: false, level: next, recheck: false, why: 'no 429 yet: climbing' };
  }

  const lo = low ?? 0;
  if (high - lo <= precision) {
    if (cfg.recheck && lo > 0) {
      const last = lastIndexOf(epoch, (r) => !r.recheck);
      const rechecked = epoch.slice(last + 1);
      if (!rechecked.some((r) => r.level === lo)) {
        return { done: false, level: lo, recheck: true, why: 're-checking the highest clean level' };
      }
      if (!rechecked.some((r) => r.level === high)) {
        return { done: false, level: high, recheck: true, why: 're-checking the lowest level that drew a 429' };
      }
    }
    if (lo === 0) return { done: true, status: 'unclear', low, high, moved, why: 'even the lowest level drew a 429' };
    return { done: true, status: 'found', low: lo, high, moved, why: `bracket [${lo}, ${high}] within precision ${precision}` };
  }

  // Guess from what the server actually held open on the levels that drew a 429.
  const guess = Math.max(0, ...epoch.filter((r) => r.drew429).map((r) => r.peakAdmitted));
  if (guess > lo && guess < high && !tried.has(guess)) {
    return { done: false, level: guess, recheck: false, why: `the server held ${guess} at once on a 429 level` };
  }
  if (guess >= lo && guess + 1 < high && guess + 1 > lo && !tried.has(guess + 1) && tried.has(guess)) {
    return { done: false, level: guess + 1, recheck: false, why: 'one over the guessed cap' };
  }
  let mid = Math.floor((lo + high) / 2);
  if (mid <= lo) mid = lo + 1;
  if (mid >= high) mid = high - 1;
  // A level tried twice without narrowing the bracket: the server never held it at once (requests end too
  // soon for the level to build up), so more tries would not tell more.
  if (epoch.filter((r) => r.level === mid && !r.recheck).length >= MAX_TRIES_PER_LEVEL) {
    return {
      done: true,
      status: 'unclear',
      low,
      high,
      moved,
      why: `level ${mid} was never held at once in ${MAX_TRIES_PER_LEVEL} tries: requests end too soon (raise request.max_tokens or load.hold)`,
    };
  }
  return { done: false, level: mid, recheck: false, why: `bisecting [${lo}, ${high}]` };
}

/** How often a level may be client-bound in a row before the search ends `unclear` (the first try and one retry). */
export const CLIENT_BOUND_TRIES = 2;

/** How often one level may be tried (outside re-checks) before the search gives up on narrowing further. */
export const MAX_TRIES_PER_LEVEL = 2;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function lastIndexOf<T>(xs: readonly T[], f: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i] as T)) return i;
  return -1;
}
