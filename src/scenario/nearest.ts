/**
 * "Did you mean ...?": the nearest known word by edit distance, for hints on unknown keys and enum values.
 */

/** Levenshtein distance (insert, delete, substitute; cost 1 each), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length]!;
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
