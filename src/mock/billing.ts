/**
 * What the mock bills, like the real API: an admitted request is billed its prompt (cache hits at the hit price,
 * the rest at the miss price) plus the output tokens streamed before it ended or was cut. Rejected requests
 * (401, 400, 402, 429, HTTP faults) cost nothing. Served at GET /_mock/state as `billing` (ground truth that
 * tests hold dsprobe's own cost figures against).
 */
import { DEFAULT_PRICING } from '../cost/pricing.js';

/** Billed tokens and dollars of one account for one model. */
export interface BilledUsage {
  /** Admitted requests billed. */
  requests: number;
  prompt_tokens: number;
  cache_hit_tokens: number;
  cache_miss_tokens: number;
  /** Output tokens streamed (reasoning included). */
  completion_tokens: number;
  /** USD at DeepSeek's published prices (0 for a model without a price). */
  usd: number;
}

/** Billing per account name, then per model. */
export class Billing {
  private readonly byAccount = new Map<string, Map<string, BilledUsage>>();

  /** Bills one admitted request once it is over: `hit` of its `prompt` tokens came from the prefix cache. */
  bill(account: string, model: string, prompt: number, hit: number, completion: number): void {
    let models = this.byAccount.get(account);
    if (!models) this.byAccount.set(account, (models = new Map()));
    let u = models.get(model);
    if (!u) models.set(model, (u = { requests: 0, prompt_tokens: 0, cache_hit_tokens: 0, cache_miss_tokens: 0, completion_tokens: 0, usd: 0 }));
    const miss = Math.max(0, prompt - hit);
    u.requests++;
    u.prompt_tokens += prompt;
    u.cache_hit_tokens += hit;
    u.cache_miss_tokens += miss;
    u.completion_tokens += completion;
    const p = DEFAULT_PRICING[model];
    if (p) u.usd += (hit * p.input_cache_hit + miss * p.input_cache_miss + completion * p.output) / 1e6;
  }

  /** A plain copy for /_mock/state: `{ account: { model: BilledUsage } }`. */
  view(): Record<string, Record<string, BilledUsage>> {
    const out: Record<string, Record<string, BilledUsage>> = {};
    for (const [a, models] of this.byAccount) {
      out[a] = {};
      for (const [m, u] of models) out[a][m] = { ...u };
    }
    return out;
  }
}
