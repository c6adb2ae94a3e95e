/**
 * "Did you mean ...?": the nearest known word by edit distance, for hints on unknown keys and enum values.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment: insert, delete, substitute, swap
 * two neighbours; cost 1 each), case-insensitive. `hodl` is 1 from `hold`, so typos find their word.
 */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d[i] = [i];
    for (let j = 1; j <= b.length; j++) d[i]![j] = i === 0 ? j : 0;
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `word`, or undefined when even the nearest is too far to be a plausible typo
 * (more than a third of the longer word's letters, at least 2, or a prefix match of 3+ letters).
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.ceil(Math.max(word.length, best.length) / 3));
  if (bestD <= limit) return best;
  // `max_usd_budget` vs `max_usd`, `prompt` vs `prompt_tokens`: a shared prefix is a good sign too.
  const w = word.toLowerCase();
  const pre = candidates.find((c) => w.length >= 3 && (c.toLowerCase().startsWith(w) || w.startsWith(c.toLowerCase())));
  return pre;
}
