/**
 * A warm start for the cap search: when an earlier search of the same model found an estimate E, check E and
 * E + 1 first (a cap that did not move shows E clean and E + 1 over), and only then hand the history to the cold
 * search (nextSearchStep), which climbs or bisects from whatever those two levels showed. A cap that moved costs
 * the two checks more than a cold search; a cap that held costs two levels instead of a whole climb.
 */
import { nextSearchStep, type LevelResult, type SearchConfig, type SearchDecision } from './search.js';

/** What an earlier search of this model left behind. */
export interface WarmStart {
  /** The last estimate (the highest level held without a 429). */
  estimate: number;
}

/** The next level of a search that starts from `warm` (or of a cold search when `warm` is absent). Pure. */
export function nextWarmStep(history: readonly LevelResult[], cfg: SearchConfig, warm?: WarmStart | null): SearchDecision {
  if (!warm || !(warm.estimate >= 1)) return nextSearchStep(history, cfg);
  const max = Math.max(1, Math.floor(cfg.max));
  const e = Math.min(Math.floor(warm.estimate), max);
  // A client-bound level is no evidence: the cold search retries it or stops (nextSearchStep).
  if (history[history.length - 1]?.clientBound) return nextSearchStep(history, cfg);
  const at = (level: number) => history.find((r) => r.level === level && !r.clientBound);
  const first = at(e);
  if (!first) return { done: false, level: e, recheck: false, why: `warm start: checking the last estimate ${e}` };
  if (!first.drew429 && first.confirmed && e + 1 <= max && !at(e + 1)) {
    return { done: false, level: e + 1, recheck: false, why: `warm start: checking one over the last estimate (${e + 1})` };
  }
  return nextSearchStep(history, cfg);
}
