/**
 * Ground floor: how a sequence of level verdicts is read, shared by the live search (plan/search.ts) and the
 * report's cap estimator (measure/cap.ts) so both tell the same story. Pure, no imports.
 */

/** What one decided level showed, in run order. */
export interface LevelEvidence {
  level: number;
  /** A request sent at this level drew a 429. */
  drew429: boolean;
  /** Fresh evidence held the whole level (see docs/report-schema.md, "What proves a level"). */
  confirmed: boolean;
  /** Most admitted-and-open requests at the admission of a request sent at this level. */
  peakAdmitted: number;
  /**
   * dsprobe itself was the bottleneck at this level (its loop delay or send lag over the limit, measure/client.ts):
   * what the level showed may be the client's pace, not the server's, so it is no evidence either way.
   */
  clientBound?: boolean;
}

/** A move of the cap the history shows: a level proven clean later drew a 429 (drop), or the reverse (rise). */
export interface CapMove {
  /** Index in the history of the result that showed the move. */
  at: number;
  direction: 'drop' | 'rise';
  /** The bracket edge the move contradicted (old low for a drop, old high for a rise) and the new level. */
  from: number;
  to: number;
}

/**
 * Walks the history in order, keeping the bracket of the evidence since the last move. A 429 at or below the
 * highest clean level means the cap dropped (or the edge is noisy): every earlier clean level is stale and dropped.
 * A level proven clean at or above the lowest 429 level means it rose: the earlier 429 levels are dropped.
 * Client-bound levels are skipped (no evidence); indices in `moves` still refer to the full history.
 */
export function walk(history: readonly LevelEvidence[]): { low: number | null; high: number | null; moves: CapMove[] } {
  let low: number | null = null;
  let high: number | null = null;
  // Most the server was seen admitting at once since the last move, on any level (a 429 level too).
  let held = 0;
  const moves: CapMove[] = [];
  history.forEach((r, i) => {
    if (r.clientBound) return;
    if (r.drew429) {
      if (low !== null && r.level <= low) {
        moves.push({ at: i, direction: 'drop', from: low, to: r.level });
        low = null;
        held = 0;
      } else if (held - r.level > noiseMargin(held)) {
        // The server admitted `held` at once earlier (fresh, on a level over the cap), and now refuses far fewer.
        moves.push({ at: i, direction: 'drop', from: held, to: r.level });
        low = null;
        held = 0;
      }
      high = high === null ? r.level : Math.min(high, r.level);
      held = Math.max(held, r.peakAdmitted);
      return;
    }
    held = Math.max(held, r.confirmed ? r.level : r.peakAdmitted);
    const proven = r.confirmed ? r.level : r.peakAdmitted;
    if (high !== null && proven >= high) {
      if (!r.confirmed) return;
      moves.push({ at: i, direction: 'rise', from: high, to: proven });
      high = null;
      low = proven;
      held = proven;
      return;
    }
    low = low === null ? proven : Math.max(low, proven);
  });
  return { low, high, moves };
}


/**
 * A change within this margin of a level reads as a noisy edge (or the client's few-request lag in seeing slots
 * freed); a wider one as a cap that moved: NOISE_SHARE of the level, at least NOISE_MIN requests.
 */
export const NOISE_SHARE = 0.1;
export const NOISE_MIN = 3;
export function noiseMargin(level: number): number {
  return Math.max(NOISE_MIN, Math.ceil(NOISE_SHARE * level));
}

/**
 * The reason a search or an estimate ends `unclear` when dsprobe itself was the bottleneck at `level`: the loop
 * delay p99 (ms) of its worst thread, or its send lag p99 when the loop kept up, and what to do about it.
 */
export function clientBoundReason(level: number, loopP99Ms: number, sendLagP99Ms = 0): string {
  const lag = loopP99Ms >= sendLagP99Ms ? `loop p99 ${loopP99Ms.toFixed(1)} ms` : `send lag p99 ${sendLagP99Ms.toFixed(1)} ms`;
  return `dsprobe was the bottleneck at level ${level} (${lag}): use --workers, shard, or lower the level`;
}
