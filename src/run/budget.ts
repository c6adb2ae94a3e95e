/**
 * Live cost: what one request cost from the usage the server reported, priced per model.
 */
import type { Sample } from '../types.js';
import type { Price } from '../types.js';
import { usdOf } from '../cost/cost.js';

/** USD cost of one sample (0 when the server reported no usage or the model has no price). */
export function priceOf(s: Sample, pricing: Readonly<Record<string, Price>>): number {
  const u = s.usage;
  const p = pricing[s.model];
  if (!u || !p) return 0;
  return usdOf(
    { prompt: u.prompt_tokens, completion: u.completion_tokens, cache_hit: u.cache_hit_tokens, cache_miss: u.cache_miss_tokens, reasoning: u.reasoning_tokens },
    p,
  );
}
