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
 */
export function walk(history: readonly LevelEvidence[]): { low: number | null; high: number | null; moves: CapMove[] } {
  let low: number | null = null;
  let high: number | null = null;
  const moves: CapMove[] = [];
  history.forEach((r, i) => {
    if (r.drew429) {
      if (low !== null && r.level <= low) {
        moves.push({ at: i, direction: 'drop', from: low, to: r.level });
        low = null;
      }
      high = high === null ? r.level : Math.min(high, r.level);
      return;
    }
    const proven = r.confirmed ? r.level : r.peakAdmitted;
    if (high !== null && proven >= high) {
      if (!r.confirmed) return;
      moves.push({ at: i, direction: 'rise', from: high, to: proven });
      high = null;
      low = proven;
      return;
    }
    low = low === null ? proven : Math.max(low, proven);
  });
  return { low, high, moves };
}

