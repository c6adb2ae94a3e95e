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
import { CHEAP_PROMPT, cheapMaxTokens } from '../plan/cheap.js';

export { CHEAP_PROMPT, cheapMaxTokens, isCheap } from '../plan/cheap.js';

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
