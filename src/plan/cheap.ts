/**
 * The sizes of a cheap probe (`probe: cheap`), shared by the runner (which sends it) and the plan (which prices
 * it before anything is sent). See run/cheap.ts for why a probe is shaped this way.
 */
import type { Scenario } from '../scenario/types.js';

/**
 * The probe's prompt: identical for every request (so the server's own prompt count, calibrated once, prices
 * every cut request exactly), a handful of tokens, and an instruction a real model answers at length, so a
 * request is not over before its level is decided.
 */
export const CHEAP_PROMPT = 'Count to 999';

/** The least and most `max_tokens` a cheap probe sends when the scenario does not set it. */
export const CHEAP_MAX_TOKENS = { min: 16, max: 8192 } as const;

/** Fastest output assumed when sizing max_tokens, ms per token: faster servers would end a request sooner. */
const FAST_MS_PER_TOKEN = 10;

/**
 * Pause after cutting a level before the next one, ms: a server counts a cut request until it notices the
 * disconnect, and a level sent before then would draw 429s that belong to the previous level.
 */
export const CHEAP_SETTLE_MS = 300;

/** True when the scenario's search uses cheap probes. */
export function isCheap(s: Scenario): boolean {
  return s.probe?.mode === 'cheap' && s.load.mode === 'search';
}

/**
 * max_tokens of a cheap probe: enough to stay open for a whole hold (the latest a level is decided) at a fast
 * server's pace. It is a ceiling, not a cost: requests are cut when their level is decided.
 */
export function cheapMaxTokens(s: Scenario): number {
  if (s.probe?.max_tokens !== undefined) return s.probe.max_tokens;
  const n = Math.ceil(s.load.hold_ms / FAST_MS_PER_TOKEN);
  return Math.min(CHEAP_MAX_TOKENS.max, Math.max(CHEAP_MAX_TOKENS.min, n));
}


/** The climb's least growth factor with cheap probes: a 429 costs nothing, and a small level costs only its prompts. */
export const CHEAP_GROWTH = 4;

/**
 * How a cheap search climbs and confirms. It climbs by at least CHEAP_GROWTH (overshooting the cap is free: the
 * server refuses the excess at admission, and the first 429 level shows what it held), and it does not re-check the
 * bracket: each re-check pays for two more levels at the cap, and a watch re-checks anyway, since every probe's warm
 * start checks the last estimate and one over it.
 */
export function cheapSearchConfig(s: Scenario): { growth: number; recheck: boolean } {
  return isCheap(s) ? { growth: Math.max(s.load.growth, CHEAP_GROWTH), recheck: false } : { growth: s.load.growth, recheck: s.load.recheck };
}
