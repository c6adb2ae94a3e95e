/**
 * Seeded synthetic prompts. Every request shares one system prefix (identical bytes, so a provider's prefix
 * cache can hit on it) and gets a user message that starts with a unique tag, so nothing past the shared
 * prefix can be served from cache. Sizes use ~4 characters per token (English-like text).
 */
import type { Random } from '../time/random.js';

/** Characters per token assumed when sizing text. */
export const CHARS_PER_TOKEN = 4;

/** Filler text is cut from a seeded pool of this many characters (~16k tokens), repeated if more is needed. */
const POOL_CHARS = 65_536;

const WORDS = (
  'the of and to in is was for on that with as by at from his her it an were are which this be or has had not ' +
  'but what all when there can more one would their will time about if up out them other so some these into ' +
  'river mountain city harbor engine signal garden winter summer market bridge library window letter forest ' +
  'journey ancient careful quiet bright distant gentle sudden narrow golden silver broken hidden open early ' +
  'story captain teacher farmer doctor painter sailor merchant student child stranger friend neighbor keeper ' +
  'walked opened watched carried noticed remembered followed answered built counted measured waited returned ' +
  'morning evening storm lantern compass ladder kettle blanket orchard meadow valley island tower station ' +
  'because although while before after until during between beneath across toward against around beyond'
).split(' ');

const SYSTEM_HEAD =
  'You are a helpful assistant taking part in a capacity test. Answer the user directly. Background notes follow. ';
const USER_INSTRUCTION = 'Continue the following passage as a long story, in plain prose:\n\n';

function words(random: Random, chars: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    const w = WORDS[Math.floor(random.next() * WORDS.length)] as string;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ');
}

/** `chars` characters of filler cut from `pool` at `offset`, wrapping around. */
function cut(pool: string, offset: number, chars: number): string {
  if (chars <= 0) return '';
  let s = '';
  let at = offset % pool.length;
  while (s.length < chars) {
    const take = Math.min(chars - s.length, pool.length - at);
    s += pool.slice(at, at + take);
    at = 0;
  }
  return s;
}

/** Options for makePromptFactory. Token counts are approximate (CHARS_PER_TOKEN). */
export interface PromptOptions {
  /** Total prompt size per request, system prefix included. */
  prompt_tokens: number;
  /** Size of the system prefix shared by every request (0 = no system message). */
  system_prefix_tokens: number;
  random: Random;
}

/**
 * Makes a seeded prompt factory. The result for a given id depends only on the seed and the id (not on call
 * order). The system prefix is the same string for every id; the user prompt starts with a tag unique to the id.
 */
export function makePromptFactory(opts: PromptOptions): (id: number) => { system: string; prompt: string } {
  const prefixTokens = Math.max(0, Math.floor(opts.system_prefix_tokens));
  const system = prefixTokens > 0 ? cut(SYSTEM_HEAD + words(opts.random.fork('system'), prefixTokens * CHARS_PER_TOKEN), 0, prefixTokens * CHARS_PER_TOKEN) : '';
  // The unique remainder: at least a few tokens even when the prefix takes the whole budget.
  const userChars = Math.max(8, Math.floor(opts.prompt_tokens) - prefixTokens) * CHARS_PER_TOKEN;
  const pool = words(opts.random.fork('pool'), POOL_CHARS);
  return (id: number) => {
    const r = opts.random.fork(`request:${id}`);
    const tag = `[request ${id} ${Math.floor(r.next() * 0xffffffff).toString(16).padStart(8, '0')}] `;
    const head = tag + USER_INSTRUCTION;
    const fillChars = userChars - head.length;
    // Start the filler at a word boundary of a seeded offset.
    let offset = Math.floor(r.next() * pool.length);
    const sp = pool.indexOf(' ', offset);
    offset = sp === -1 ? 0 : sp + 1;
    return { system, prompt: fillChars > 0 ? head + cut(pool, offset, fillChars) : head };
  };
}
