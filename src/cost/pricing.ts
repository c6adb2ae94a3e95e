/**
 * Prices, USD per million tokens (DEEPSEEK-API.md, "Pricing per million tokens"). Scenarios override them
 * with `pricing:`; reports state which table was used.
 */
import type { Price } from '../types.js';

/** DeepSeek's published prices. */
export const DEFAULT_PRICING: Readonly<Record<string, Price>> = {
  'deepseek-v4-flash': { input_cache_hit: 0.028, input_cache_miss: 0.14, output: 0.28 },
  'deepseek-v4-pro': { input_cache_hit: 0.145, input_cache_miss: 1.74, output: 3.48 },
};

/**
 * The defaults with overrides laid over them, field by field: an override of `output` alone keeps the
 * default input prices. Models without a default must give all three fields (the scenario checks that).
 */
export function mergePricing(overrides: Readonly<Record<string, Partial<Price>>> = {}): Record<string, Price> {
  const out: Record<string, Price> = {};
  for (const [m, p] of Object.entries(DEFAULT_PRICING)) out[m] = { ...p };
  for (const [m, p] of Object.entries(overrides)) {
    const base = out[m] ?? { input_cache_hit: NaN, input_cache_miss: NaN, output: NaN };
    out[m] = { ...base, ...p };
  }
  return out;
}
