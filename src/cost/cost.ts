/**
 * What tokens cost: usage totals per model times the pricing table.
 */
import type { Price } from '../types.js';
import type { TokenTotals } from '../types.js';

/** A run's (or a plan's) cost, USD. */
export interface CostBreakdown {
  usd: number;
  /** USD per model. */
  models: Record<string, number>;
  /** Models that used tokens but have no price (counted as 0 USD). */
  unpriced: string[];
}

/**
 * USD for one model's token totals. Cache-hit input at the hit price, the rest of the input at the miss
 * price (when the server reported no split, all input counts as a miss: the dearer case), output
 * (reasoning included) at the output price.
 */
export function usdOf(t: TokenTotals, p: Price): number {
  const hit = Math.max(0, t.cache_hit);
  const miss = Math.max(t.cache_miss, t.prompt - hit, 0);
  return (hit * p.input_cache_hit + miss * p.input_cache_miss + t.completion * p.output) / 1e6;
}

/** Cost of usage totals per model under a pricing table (USD per million tokens). */
export function costOf(usage: Readonly<Record<string, TokenTotals>>, pricing: Readonly<Record<string, Price>>): CostBreakdown {
  const out: CostBreakdown = { usd: 0, models: {}, unpriced: [] };
  for (const [model, t] of Object.entries(usage)) {
    const p = pricing[model];
    const used = t.prompt + t.completion + t.cache_hit + t.cache_miss > 0;
    if (!p || ![p.input_cache_hit, p.input_cache_miss, p.output].every(Number.isFinite)) {
      out.models[model] = 0;
      if (used) out.unpriced.push(model);
      continue;
    }
    const usd = usdOf(t, p);
    out.models[model] = usd;
    out.usd += usd;
  }
  return out;
}

/** Dollars for people: `$0.0042`, `$1.23`, `$1,234.56`. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
