/**
 * Cost: the pricing table and what usage costs. Plain types only (ground floor), so scenario/ may call the
 * pricing parser. The worst-case plan shown before a run lives in plan/estimate.ts and plan/plan-text.ts.
 */

export { DEFAULT_PRICING, mergePricing } from './pricing.js';
export { costOf, usdOf, formatUsd, type CostBreakdown } from './cost.js';
