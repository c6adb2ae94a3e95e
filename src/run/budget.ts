/**
 * Live cost: what one request cost from the usage the server reported, priced per model.
 */
import type { Sample } from '../types.js';
import type { Price } from '../scenario/types.js';

/** USD cost of one sample (0 when the server reported no usage or the model has no price). */
export function priceOf(s: Sample, pricing: Readonly<Record<string, Price>>): number {
  const u = s.usage;
  const p = pricing[s.model];
  if (!u || !p) return 0;
  // Servers that do not split cache hits from misses: count the whole prompt as a miss (the dearer case).
  const split = u.cache_hit_tokens + u.cache_miss_tokens > 0;
  const hit = split ? u.cache_hit_tokens : 0;
  const miss = split ? u.cache_miss_tokens : u.prompt_tokens;
  return (hit * p.input_cache_hit + miss * p.input_cache_miss + u.completion_tokens * p.output) / 1e6;
}
