/**
 * Cheap probes (`probe: cheap`, `--cheap`): the cap search sends the smallest request that can still hold a level
 * open. A cap is decided at admission, so what a probe must buy is only its place in the count from admission
 * until its level is decided: a prompt of a few tokens, streaming (headers arrive at admission), no thinking, and
 * a `max_tokens` ceiling that keeps it open until then. Every request of a level is cut as soon as the level is
 * decided, so it is billed its prompt plus the few output tokens streamed before the cut.
 */
import type { Scenario } from '../scenario/types.js';
import type { Random } from '../time/random.js';
import { makePromptFactory } from '../protocol/prompt.js';

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

/** The request shape of a cheap probe (everything but ids, keys and timestamps). */
export interface CheapShape {
  system: string;
  prompt: string;
  max_tokens: number;
  stream: true;
  thinking: false;
}

/** The cheap shape for a scenario: a fixed few-token prompt, an optional shared system prefix. */
export function cheapShape(s: Scenario, random: Random): CheapShape {
  const prefix = s.probe?.system_prefix_tokens ?? 0;
  const system = prefix > 0 ? makePromptFactory({ prompt_tokens: prefix, system_prefix_tokens: prefix, random: random.fork('cheap') })(0).system : '';
  return { system, prompt: CHEAP_PROMPT, max_tokens: cheapMaxTokens(s), stream: true, thinking: false };
}
